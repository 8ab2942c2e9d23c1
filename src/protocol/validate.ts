import { TypeCompiler, type TypeCheck } from '@sinclair/typebox/compiler';
import type { TObject } from '@sinclair/typebox';
import type { ValueError } from '@sinclair/typebox/errors';
import { protocolError, type ProtocolError } from './error-codes.js';
import { clientSchemas, type ClientSchemas } from './schemas.js';
import type { Limits } from './limits.js';
import type { ClientMessage } from './messages.js';
import { isPlainObject } from './json-value.js';
import { compileFilters, type PeerPredicate } from './filters.js';
import type { DiscoverMessage } from './messages.js';
import { findNonFinite } from './finite-numbers.js';
import { isWellFormed, WELL_FORMED_PATTERN } from './unicode.js';

export type ParseResult =
  | { readonly ok: true; readonly message: ClientMessage; readonly filter?: PeerPredicate }
  | { readonly ok: false; readonly error: ProtocolError; readonly requestType?: string };

export interface ValidatorOptions {
  readonly limits: Limits;
  /** Accept the compat-only client `error` relay. */
  readonly compat: boolean;
}

const NOT_FINITE = 'number is not finite (beyond the range of a double)';

/** Path segments shown in an error message before it is cut short. */
const MAX_PATH_SEGMENTS = 12;

/** Parses and validates one text frame: the first two steps of the hot path. */
export class MessageValidator {
  private readonly checks = new Map<string, TypeCheck<TObject>>();
  private readonly limits: Limits;

  constructor(options: ValidatorOptions) {
    this.limits = options.limits;
    const schemas: ClientSchemas = clientSchemas(options.limits);
    for (const [type, schema] of Object.entries(schemas)) {
      if (type === 'error' && !options.compat) continue;
      this.checks.set(type, TypeCompiler.Compile(schema));
    }
  }

  parse(text: string): ParseResult {
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch {
      return { ok: false, error: protocolError('INVALID_JSON', 'frame is not valid JSON') };
    }
    if (!isPlainObject(value)) {
      return { ok: false, error: protocolError('INVALID_JSON', 'frame is not a JSON object') };
    }
    return this.validate(value);
  }

  validate(value: Record<string, unknown>): ParseResult {
    const type = value.type;
    if (typeof type !== 'string') {
      return { ok: false, error: protocolError('INVALID_MESSAGE', 'type: expected a string') };
    }
    const check = this.checks.get(type);
    if (check === undefined) {
      return {
        ok: false,
        requestType: type,
        error: protocolError('UNKNOWN_MESSAGE_TYPE', `unknown message type ${JSON.stringify(type.slice(0, 64))}`),
      };
    }
    if (!check.Check(value)) {
      const first = check.Errors(value).First();
      const where = first?.path ? first.path.slice(1).replaceAll('/', '.') : 'message';
      return { ok: false, requestType: type, error: protocolError('INVALID_MESSAGE', `${where}: ${explain(value, first)}`) };
    }
    const message = value as unknown as ClientMessage;
    let filter: PeerPredicate | undefined;
    if (message.type === 'discover_peers') {
      // Operator objects are part of validation: a bad filter is INVALID_MESSAGE before anything else.
      // Checked before the walk below, which a filter over the limits need not cost.
      const compiled = compileFilters((message as DiscoverMessage).filters, this.limits);
      if (!compiled.ok) return { ok: false, requestType: type, error: compiled.error };
      filter = compiled.match;
    }
    const nonFinite = findNonFinite(value);
    if (nonFinite !== null) {
      const error = protocolError('INVALID_MESSAGE', `${showPath(nonFinite)}: ${NOT_FINITE}`);
      return { ok: false, requestType: type, error };
    }
    return filter === undefined ? { ok: true, message } : { ok: true, message, filter };
  }
}

/** Why the value at the first schema error is refused, in words. */
function explain(value: Record<string, unknown>, error: ValueError | undefined): string {
  if (error === undefined) return 'invalid';
  const at = valueAt(value, error.path);
  if (at === undefined || at === null) {
    if (error.path.split('/').length === 2) return 'required field is missing';
  } else if (typeof at === 'string' && !isWellFormed(at) && requiresWellFormed(error.schema)) {
    return 'must be well-formed Unicode (no unpaired surrogate)';
  } else if (typeof at === 'number' && !Number.isFinite(at)) {
    return NOT_FINITE;
  }
  return error.message;
}

function valueAt(value: unknown, path: string): unknown {
  let at = value;
  for (const part of path.split('/').slice(1)) {
    if (typeof at !== 'object' || at === null || !Object.hasOwn(at, part)) return undefined;
    at = (at as Record<string, unknown>)[part];
  }
  return at;
}

/** The schema, or one branch of its union (an optional field), asks for well-formed text. */
function requiresWellFormed(schema: unknown): boolean {
  const s = schema as { pattern?: unknown; anyOf?: unknown[] };
  return s.pattern === WELL_FORMED_PATTERN || (Array.isArray(s.anyOf) && s.anyOf.some(requiresWellFormed));
}

function showPath(path: readonly string[]): string {
  const shown = path.slice(0, MAX_PATH_SEGMENTS).map((k) => (k.length <= 64 ? k : `${k.slice(0, 63)}…`));
  return path.length > MAX_PATH_SEGMENTS ? `${shown.join('.')}.…` : shown.join('.');
}

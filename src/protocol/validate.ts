import { TypeCompiler, type TypeCheck } from '@sinclair/typebox/compiler';
import type { TObject } from '@sinclair/typebox';
import { protocolError, type ProtocolError } from './error-codes.js';
import { clientSchemas, type ClientSchemas } from './schemas.js';
import type { Limits } from './limits.js';
import type { ClientMessage } from './messages.js';
import { isPlainObject } from './json-value.js';
import { compileFilters, type PeerPredicate } from './filters.js';
import type { DiscoverMessage } from './messages.js';

export type ParseResult =
  | { readonly ok: true; readonly message: ClientMessage; readonly filter?: PeerPredicate }
  | { readonly ok: false; readonly error: ProtocolError; readonly requestType?: string };

export interface ValidatorOptions {
  readonly limits: Limits;
  /** Accept the compat-only client `error` relay. */
  readonly compat: boolean;
}

/** Parses and validates one text frame: the first two steps of the hot path. */
export class MessageValidator {
  private readonly checks = new Map<string, TypeCheck<TObject>>();

  constructor(options: ValidatorOptions) {
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
      const why = first?.message ?? 'invalid';
      const detail = isMissing(value, first?.path) ? 'required field is missing' : why;
      return { ok: false, requestType: type, error: protocolError('INVALID_MESSAGE', `${where}: ${detail}`) };
    }
    const message = value as unknown as ClientMessage;
    if (message.type === 'discover_peers') {
      // Operator objects are part of validation: a bad filter is INVALID_MESSAGE before anything else.
      const compiled = compileFilters((message as DiscoverMessage).filters);
      if (!compiled.ok) return { ok: false, requestType: type, error: compiled.error };
      return { ok: true, message, filter: compiled.match };
    }
    return { ok: true, message };
  }
}

function isMissing(value: Record<string, unknown>, path: string | undefined): boolean {
  if (!path) return false;
  const parts = path.split('/').slice(1);
  if (parts.length !== 1) return false;
  const v = value[parts[0]!];
  return v === undefined || v === null;
}

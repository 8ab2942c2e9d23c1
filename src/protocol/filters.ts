import { protocolError, type ProtocolError } from './error-codes.js';
import { isPlainObject } from './json-value.js';
import { canonicalJson, JsonValueSet, type CanonicalProblem } from './json-value-set.js';
import { DEFAULT_LIMITS, type FilterLimits } from './limits.js';
import type { DiscoverFilters, Metadata } from './messages.js';

/** The part of a peer that discovery filters look at. */
export interface FilterSubject {
  readonly role: string;
  readonly metadata: Metadata;
}

export type PeerPredicate = (peer: FilterSubject) => boolean;
export type FilterResult = { ok: true; match: PeerPredicate } | { ok: false; error: ProtocolError };

type Test = (present: boolean, value: unknown) => boolean;

const ORDER_OPS = ['$gt', '$gte', '$lt', '$lte'] as const;
type OrderOp = (typeof ORDER_OPS)[number];

/**
 * Compiles `discover_peers` filters into one predicate. Malformed operators and filters over the
 * limits are rejected here, once, so that matching never throws on whatever data peers stored.
 *
 * The limits bound the work per peer: equality tests go through a JsonValueSet (a lookup, not a
 * comparison per operand), and a stored value is never examined further than the longest and
 * deepest operand reaches. So testing one peer costs at most about one pass over each filtered
 * property, capped by the operand limits, plus a constant per filter key.
 */
export function compileFilters(filters: DiscoverFilters | null | undefined, limits: FilterLimits = DEFAULT_LIMITS): FilterResult {
  const tests: PeerPredicate[] = [];
  if (filters) {
    const role = filters.role;
    if (role !== null && role !== undefined) tests.push((p) => p.role === role);
    const tags = filters.tags;
    if (tags && tags.length > 0) {
      const wanted = new Set(tags);
      tests.push((p) => {
        const have = p.metadata.tags;
        return Array.isArray(have) && have.some((t) => typeof t === 'string' && wanted.has(t));
      });
    }
    const props = filters.properties;
    if (props) {
      const entries = Object.entries(props);
      if (entries.length > limits.maxFilterProperties) {
        return invalid(`filters.properties: at most ${limits.maxFilterProperties} keys (got ${entries.length})`);
      }
      for (const [key, expected] of entries) {
        const compiled = compileProperty(key, expected, limits);
        if (!compiled.ok) return compiled;
        const test = compiled.test;
        tests.push((p) => {
          const bag = p.metadata.properties;
          const present = isPlainObject(bag) && Object.hasOwn(bag, key);
          return test(present, present ? (bag as Record<string, unknown>)[key] : undefined);
        });
      }
    }
  }
  return { ok: true, match: (peer) => tests.every((t) => t(peer)) };
}

type PropertyResult = { ok: true; test: Test } | { ok: false; error: ProtocolError };

function compileProperty(key: string, expected: unknown, limits: FilterLimits): PropertyResult {
  const where = `filters.properties.${label(key)}`;
  if (!isOperatorObject(expected)) {
    const equal = valueSet([expected], limits);
    if (!(equal instanceof JsonValueSet)) return invalid(`${where}: ${equal}`);
    return { ok: true, test: (present, value) => present && equal.has(value) };
  }
  const ops = Object.entries(expected);
  if (!ops.every(([op]) => op.startsWith('$'))) {
    return invalid(`${where}: operator objects may only have $ keys`);
  }
  const tests: Test[] = [];
  for (const [op, operand] of ops) {
    const test = compileOperator(op, operand, limits);
    if (typeof test !== 'function') return invalid(`${where}.${label(op)}: ${test}`);
    tests.push(test);
  }
  return { ok: true, test: (present, value) => tests.every((t) => t(present, value)) };
}

/** Returns the test, or why the operator is malformed or over a limit. */
function compileOperator(op: string, operand: unknown, limits: FilterLimits): Test | string {
  switch (op) {
    case '$eq':
    case '$ne': {
      const set = valueSet([operand], limits);
      if (!(set instanceof JsonValueSet)) return set;
      return op === '$eq' ? (present, value) => present && set.has(value) : (present, value) => !present || !set.has(value);
    }
    case '$in':
    case '$nin': {
      if (!Array.isArray(operand)) return 'expected an array';
      if (operand.length > limits.maxFilterListItems) {
        return `at most ${limits.maxFilterListItems} elements (got ${operand.length})`;
      }
      const set = valueSet(operand, limits);
      if (!(set instanceof JsonValueSet)) return set;
      return op === '$in' ? (present, value) => present && set.has(value) : (present, value) => !present || !set.has(value);
    }
    case '$exists':
      if (typeof operand !== 'boolean') return 'expected a boolean';
      return (present) => present === operand;
    default:
      if ((ORDER_OPS as readonly string[]).includes(op)) {
        if (typeof operand !== 'number' && typeof operand !== 'string') return 'expected a number or a string';
        const problem = operandProblem(operand, limits);
        if (problem !== null) return problem;
        return orderTest(op as OrderOp, operand);
      }
      return 'unknown operator';
  }
}

/** The set of `values`, or why one of them is over the operand limits. */
function valueSet(values: readonly unknown[], limits: FilterLimits): JsonValueSet | string {
  const set = JsonValueSet.of(values, { maxLength: limits.maxFilterOperandLength, maxDepth: limits.maxFilterOperandDepth });
  if (set instanceof JsonValueSet) return set;
  const which = values.length > 1 ? `element ${set.index}: ` : '';
  return `${which}${describe(set.problem, limits)}`;
}

function operandProblem(operand: unknown, limits: FilterLimits): string | null {
  const canonical = canonicalJson(operand, limits.maxFilterOperandLength, limits.maxFilterOperandDepth);
  return canonical.ok ? null : describe(canonical.problem, limits);
}

function describe(problem: CanonicalProblem, limits: FilterLimits): string {
  return problem === 'too long'
    ? `operand longer than ${limits.maxFilterOperandLength} characters of JSON`
    : `operand nested deeper than ${limits.maxFilterOperandDepth} levels`;
}

function orderTest(op: OrderOp, operand: number | string): Test {
  const kind = typeof operand;
  return (present, value) => {
    if (!present || typeof value !== kind) return false;
    const v = value as number | string;
    switch (op) {
      case '$gt':
        return v > operand;
      case '$gte':
        return v >= operand;
      case '$lt':
        return v < operand;
      case '$lte':
        return v <= operand;
    }
  };
}

/** An object with at least one key starting with `$`. */
function isOperatorObject(value: unknown): value is Record<string, unknown> {
  return isPlainObject(value) && Object.keys(value).some((k) => k.startsWith('$'));
}

/** A client-chosen key as it appears in an error message: cut short, so a reply never echoes a huge key. */
function label(key: string): string {
  return key.length <= 64 ? key : `${key.slice(0, 63)}…`;
}

function invalid(message: string): { ok: false; error: ProtocolError } {
  return { ok: false, error: protocolError('INVALID_MESSAGE', message) };
}

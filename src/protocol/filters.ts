import { protocolError, type ProtocolError } from './error-codes.js';
import { deepEqual, isPlainObject } from './json-value.js';
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

/**
 * Compiles `discover_peers` filters into one predicate. Malformed operators are rejected here,
 * once, so that matching never throws on whatever data peers stored.
 */
export function compileFilters(filters: DiscoverFilters | null | undefined): FilterResult {
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
      for (const [key, expected] of Object.entries(props)) {
        const compiled = compileProperty(key, expected);
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

function compileProperty(key: string, expected: unknown): PropertyResult {
  if (!isOperatorObject(expected)) {
    return { ok: true, test: (present, value) => present && deepEqual(value, expected) };
  }
  const ops = Object.entries(expected);
  if (!ops.every(([op]) => op.startsWith('$'))) {
    return invalid(`filters.properties.${key}: operator objects may only have $ keys`);
  }
  const tests: Test[] = [];
  for (const [op, operand] of ops) {
    const test = compileOperator(op, operand);
    if (typeof test !== 'function') return invalid(`filters.properties.${key}.${op}: ${test}`);
    tests.push(test);
  }
  return { ok: true, test: (present, value) => tests.every((t) => t(present, value)) };
}

/** Returns the test, or why the operator is malformed. */
function compileOperator(op: string, operand: unknown): Test | string {
  switch (op) {
    case '$eq':
      return (present, value) => present && deepEqual(value, operand);
    case '$ne':
      return (present, value) => !present || !deepEqual(value, operand);
    case '$in':
      if (!Array.isArray(operand)) return 'expected an array';
      return (present, value) => present && operand.some((o) => deepEqual(value, o));
    case '$nin':
      if (!Array.isArray(operand)) return 'expected an array';
      return (present, value) => !present || !operand.some((o) => deepEqual(value, o));
    case '$exists':
      if (typeof operand !== 'boolean') return 'expected a boolean';
      return (present) => present === operand;
    default:
      if ((ORDER_OPS as readonly string[]).includes(op)) {
        if (typeof operand !== 'number' && typeof operand !== 'string') return 'expected a number or a string';
        return orderTest(op as (typeof ORDER_OPS)[number], operand);
      }
      return 'unknown operator';
  }
}

function orderTest(op: (typeof ORDER_OPS)[number], operand: number | string): Test {
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

function invalid(message: string): { ok: false; error: ProtocolError } {
  return { ok: false, error: protocolError('INVALID_MESSAGE', message) };
}

import type { TSchema } from '@sinclair/typebox';
import { TypeCompiler, type TypeCheck } from '@sinclair/typebox/compiler';
import { expect } from 'vitest';
import { serverSchemas } from '../../src/protocol/schemas.js';

/**
 * Validation of everything the server sends against the server schemas of
 * src/protocol/schemas.ts (the same objects docs/protocol.schema.json is written from).
 */
const checks = new Map<string, TypeCheck<TSchema>>(
  Object.entries(serverSchemas()).map(([name, schema]) => [name, TypeCompiler.Compile(schema as TSchema)]),
);

/** WebRTC types the server relays (with `sender` stamped); their schemas are the relayed ones. */
const RELAYED = new Set(['offer', 'answer', 'candidate']);

/** Name of the server schema a message must satisfy, chosen by its type. */
export function serverSchemaName(message: unknown): string | undefined {
  if (typeof message !== 'object' || message === null || Array.isArray(message)) return undefined;
  const type = (message as { type?: unknown }).type;
  if (typeof type !== 'string') return undefined;
  if (type === 'error' && Object.hasOwn(message, 'sender')) return 'relayed_error';
  if (RELAYED.has(type)) return type;
  return checks.has(type) ? type : undefined;
}

/** Why a message is not a valid server message; empty when it is. */
export function serverMessageProblems(message: unknown): string[] {
  const name = serverSchemaName(message);
  if (name === undefined) return [`no server schema for ${JSON.stringify(message)}`];
  const check = checks.get(name)!;
  if (check.Check(message)) return [];
  return [...check.Errors(message)].map((e) => `${name}${e.path || '/'}: ${e.message}`);
}

/** Fails the test unless `message` validates against the server schema of its type. */
export function expectValidServerMessage(message: unknown): void {
  expect(serverMessageProblems(message), `server message ${JSON.stringify(message)}`).toEqual([]);
}

import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { expect } from 'vitest';
import { ROOT, cliEnv, runCli, type CliResult } from '../cli/cli-helpers.js';

/**
 * Helpers for the operator command tests: the built CLI run as a child process against one
 * Redis and key prefix, exactly as an operator would run it.
 */

export type Cli = (args: readonly string[], options?: { env?: Record<string, string>; timeoutMs?: number }) => Promise<CliResult>;

/** `sleap-signal ...args --redis URL --prefix PREFIX`. */
export function inspectCli(redisUrl: () => string, prefix: string): Cli {
  return (args, options = {}) => runCli([...args, '--redis', redisUrl(), '--prefix', prefix], { timeoutMs: 30_000, ...options });
}

/** The JSON document a successful `--json` run printed. */
export function jsonOf<T = Record<string, any>>(r: CliResult): T {
  expect(r.code, `exit code ${r.code}; stderr: ${r.stderr}`).toBe(0);
  return JSON.parse(r.stdout) as T;
}

/** A successful run's table, as lines. */
export function linesOf(r: CliResult): string[] {
  expect(r.code, `exit code ${r.code}; stderr: ${r.stderr}`).toBe(0);
  return r.stdout.replace(/\n$/, '').split('\n');
}

/** The line of a table that starts with `first` (then two spaces), split into its cells. */
export function rowOf(lines: readonly string[], first: string): string[] {
  const line = lines.find((l) => l.startsWith(`${first}  `) || l.startsWith(`${first} (`));
  expect(line, `no row for ${first} in:\n${lines.join('\n')}`).toBeDefined();
  return line!.split(/ {2,}/);
}

export const SEED_SCRIPT = join(ROOT, 'test', 'inspect', 'seed-rooms.mjs');

/** Writes rooms straight into Redis in serve's key layout (see seed-rooms.mjs). */
export function seedRooms(args: readonly string[]): Promise<{ rooms: number; peers: number; ms: number }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [SEED_SCRIPT, ...args], { cwd: ROOT, env: cliEnv(), stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    child.once('error', reject);
    child.once('close', (code) => {
      if (code === 0) resolve(JSON.parse(out) as { rooms: number; peers: number; ms: number });
      else reject(new Error(`seed-rooms.mjs exited with ${code}: ${err}`));
    });
  });
}

import { spawn } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BIN, cliEnv, ensureBuilt, killAll, ROOT, runCli, startServe, type ServeProcess } from './cli-helpers.js';
import { freePort } from '../helpers/net.js';

/**
 * Conventions every command shares (issue 17): one colour rule, a quiet end on a closed pipe, the
 * cause of a failed connection named. Each runs the built binary; terminal behaviour is checked
 * under a real pseudo-terminal (util-linux `script`).
 */

const ESC = '\x1b[';
let serve: ServeProcess;

beforeAll(async () => {
  ensureBuilt();
  serve = await startServe(['--port', '0', '--host', '127.0.0.1']);
}, 60_000);
afterAll(() => killAll());

/** Runs a shell command line with the CLI's test environment (minus FORCE_COLOR) plus `env`. */
function shell(line: string, env: Record<string, string> = {}): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const base = cliEnv();
  delete base.FORCE_COLOR;
  const child = spawn('bash', ['-c', line], { cwd: ROOT, env: { ...base, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
  child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
  return new Promise((resolve) => child.on('close', (code) => resolve({ code, stdout, stderr })));
}

/** The command under a pseudo-terminal: its output as a terminal shows it. */
const underPty = (args: string, env: Record<string, string> = {}) =>
  shell(`script -qec ${JSON.stringify(`node ${BIN} ${args}`)} /dev/null`, env);

describe('colour: only on a terminal, never with NO_COLOR, always with FORCE_COLOR', () => {
  const smoke = () => `smoke --url ${serve.url}`;

  it('colours a terminal', async () => {
    const r = await underPty(smoke());
    expect(r.stdout).toContain('smoke');
    expect(r.stdout).toContain(ESC);
  }, 30_000);

  it('does not colour a terminal when NO_COLOR is set', async () => {
    const r = await underPty(smoke(), { NO_COLOR: '1' });
    expect(r.stdout).toContain('smoke');
    expect(r.stdout).not.toContain(ESC);
  }, 30_000);

  it('does not colour a pipe or a file, and FORCE_COLOR overrides', async () => {
    const plain = await shell(`node ${BIN} ${smoke()} | cat`);
    expect(plain.stdout).toContain('smoke');
    expect(plain.stdout).not.toContain(ESC);
    const forced = await shell(`node ${BIN} ${smoke()} | cat`, { FORCE_COLOR: '1' });
    expect(forced.stdout).toContain(ESC);
  }, 30_000);

  it('keys list writes no escape codes to a file, whatever NO_COLOR says', async () => {
    const created = await runCli(['keys', 'create', '--room', 'lab-7', '--name', 'w1', '--url', serve.http]);
    expect(created.code, created.stderr).toBe(0);
    for (const env of [{}, { NO_COLOR: '1' }] as Record<string, string>[]) {
      const r = await shell(`f=$(mktemp); node ${BIN} keys list --url ${serve.http} > "$f"; cat "$f"; rm -f "$f"`, env);
      expect(r.stdout, r.stderr).toContain('lab-7');
      expect(r.stdout).not.toContain(ESC);
    }
  }, 30_000);
});

describe('a closed pipe ends a command quietly', () => {
  it('smoke | head -1: one line, no stack trace, exit 0', async () => {
    const r = await shell(`node ${BIN} smoke --url ${serve.url} | head -1; echo "rc=\${PIPESTATUS[0]}" >&2`);
    expect(r.stdout.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).not.toMatch(/EPIPE|Error|at /);
    expect(r.stderr).toContain('rc=0');
  }, 30_000);

  it('--help | head -1 ends quietly too', async () => {
    const r = await shell(`node ${BIN} --help | head -1; echo "rc=\${PIPESTATUS[0]}" >&2`);
    expect(r.stdout.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).not.toMatch(/EPIPE|Error/);
    expect(r.stderr).toContain('rc=0');
  }, 30_000);
});

describe('a failed connection names its cause', () => {
  it('smoke and keys against a closed port say ECONNREFUSED, not just "fetch failed"', async () => {
    const closed = await freePort();
    const smoke = await runCli(['smoke', '--url', `ws://127.0.0.1:${closed}`]);
    expect(smoke.code).toBe(1);
    expect(smoke.stdout + smoke.stderr).toMatch(/fetch failed \(connect ECONNREFUSED 127\.0\.0\.1:\d+\)/);
    const keys = await runCli(['keys', 'list', '--url', `http://127.0.0.1:${closed}`]);
    expect(keys.code).toBe(1);
    expect(keys.stderr).toContain(`cannot reach http://127.0.0.1:${closed}: fetch failed (connect ECONNREFUSED 127.0.0.1:${closed})`);
  }, 30_000);
});

describe('one output switch', () => {
  it('-o json is --json, -o table the default, anything else bad usage', async () => {
    const viaO = await runCli(['keys', 'list', '--url', serve.http, '-o', 'json']);
    const viaJson = await runCli(['keys', 'list', '--url', serve.http, '--json']);
    expect(viaO.code, viaO.stderr).toBe(0);
    const { generated_at: _a, ...o } = JSON.parse(viaO.stdout) as Record<string, unknown>;
    const { generated_at: _b, ...j } = JSON.parse(viaJson.stdout) as Record<string, unknown>;
    expect(o).toEqual(j);
    expect(o.schema_version).toBe(1);
    const table = await runCli(['keys', 'list', '--url', serve.http, '-o', 'table']);
    expect(() => JSON.parse(table.stdout)).toThrow();
    const bad = await runCli(['rooms', '-o', 'yaml', '--redis', 'redis://127.0.0.1:1']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/option '-o, --output <format>' argument 'yaml' is invalid/);
  }, 30_000);
});

describe('keys revoke', () => {
  it('takes the whole key as well as its id', async () => {
    const created = await runCli(['keys', 'create', '--room', 'lab-9', '--name', 'w9', '--url', serve.http, '-o', 'json']);
    const { key, id } = JSON.parse(created.stdout) as { key: string; id: string };
    const revoked = await runCli(['keys', 'revoke', key, '--url', serve.http]);
    expect(revoked.code, revoked.stderr).toBe(0);
    expect(revoked.stdout.trim()).toBe(`revoked ${id}`);
    expect(revoked.stdout).not.toContain(key);
  }, 30_000);
});

describe('keys list against the wrong port', () => {
  it('says so instead of failing on a missing list', async () => {
    const admin = await freePort();
    const server = await startServe(['--port', '0', '--host', '127.0.0.1', '--admin-port', String(admin), '--operator-token', 't0k']);
    const wrong = await runCli(['keys', 'list', '--url', server.http, '--operator-token', 't0k']);
    expect(wrong.code).toBe(1);
    expect(wrong.stderr).toMatch(/GET \/admin\/keys: .*\(is --url the server's admin port\?\)/);
    expect(wrong.stderr).not.toContain('not iterable');
    const right = await runCli(['keys', 'list', '--url', `http://127.0.0.1:${admin}`, '--operator-token', 't0k']);
    expect(right.code, right.stderr).toBe(0);
  }, 30_000);
});

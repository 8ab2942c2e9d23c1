import { createServer, type Server } from 'node:http';
import type { Socket } from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { WsClient, blackHole, closeAllClients, ensureBuilt, freePort, killAll, runCli, startServe, stripAnsi, type ServeProcess } from './cli-helpers.js';

/** The steps of a smoke run against one URL, in order. */
function expectedSteps(url: string): string[] {
  const u = new URL(url);
  const health = `http://${u.host}/health`;
  return [
    `health ${health}`,
    `connect A to ${url}`,
    `connect B to ${url}`,
    'register A',
    'register B',
    'discover from A',
    'discover from B',
    'peer_message A → B',
    'offer A → B',
    'answer B → A',
    'leave A',
    'leave B',
  ];
}

interface SmokeJson {
  version: number;
  ok: boolean;
  urls: string[];
  schema_version: number;
  generated_at: string;
  room_id: string;
  total_ms: number;
  steps: { name: string; ok: boolean; ms: number; error?: string }[];
}

let server: ServeProcess;
let compatServer: ServeProcess;

beforeAll(async () => {
  ensureBuilt();
  [server, compatServer] = await Promise.all([
    startServe(['--port', '0', '--host', '127.0.0.1']),
    startServe(['--port', '0', '--host', '127.0.0.1', '--compat', 'sleap-rtc']),
  ]);
}, 180_000);
afterAll(async () => {
  closeAllClients();
  await killAll();
});

describe('smoke against a live serve process', () => {
  it('exits 0 and prints every step with its time', async () => {
    const url = `${server.url}/`;
    const r = await runCli(['smoke', '--url', url, '--timeout', '3s']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const lines = stripAnsi(r.stdout).trimEnd().split('\n');
    const stepLines = lines.slice(0, -1).map((line) => {
      const m = /^✓ +(\d+\.\d) ms {2}(.+)$/.exec(line);
      expect(m, `step line "${line}"`).not.toBeNull();
      return m![2];
    });
    expect(stepLines).toEqual(expectedSteps(url));
    expect(lines.at(-1)).toMatch(/^smoke passed: 12 steps in \d+ ms$/);
  });

  it('--json prints {version: 1, ok: true, steps: [...]}', async () => {
    const url = `${server.url}/`;
    const r = await runCli(['smoke', '--url', url, '--json']);
    expect(r.code).toBe(0);
    const result = JSON.parse(r.stdout) as SmokeJson;
    expect(result).toMatchObject({ version: 1, ok: true, urls: [url] });
    expect(result.room_id).toMatch(/^smoke-/);
    expect(result.total_ms).toBeGreaterThan(0);
    expect(result.schema_version).toBe(1);
    expect(Date.parse(result.generated_at)).toBeGreaterThan(0);
    expect(result.steps.map((s) => s.name)).toEqual(expectedSteps(url));
    for (const step of result.steps) {
      expect(step.ok).toBe(true);
      expect(step.ms).toBeGreaterThanOrEqual(0);
      expect(step).not.toHaveProperty('error');
    }
  });

  it('takes its URL from SMOKE_URL', async () => {
    const r = await runCli(['smoke', '--json'], { env: { SMOKE_URL: server.url } });
    expect(r.code).toBe(0);
    expect((JSON.parse(r.stdout) as SmokeJson).urls).toEqual([server.url]);
  });

  it('works with two URLs of the same server (one peer on each)', async () => {
    const urlA = `${server.url}/`;
    const urlB = `${server.url}/ws`;
    const r = await runCli(['smoke', '--url', urlA, '--url', urlB, '--json']);
    expect(r.code).toBe(0);
    const result = JSON.parse(r.stdout) as SmokeJson;
    expect(result.ok).toBe(true);
    expect(result.urls).toEqual([urlA, urlB]);
    const names = result.steps.map((s) => s.name);
    expect(names).toContain(`connect A to ${urlA}`);
    expect(names).toContain(`connect B to ${urlB}`);
    expect(names.filter((n) => n.startsWith('health '))).toHaveLength(2);
  });

  it('passes against a server in --compat sleap-rtc', async () => {
    // The server really is in compat mode: its register reply is registered_auth.
    const probe = await WsClient.open(compatServer.url);
    expect(await probe.request({ type: 'register', room_id: 'probe', peer_id: 'probe' }, 'registered_auth')).toMatchObject({
      type: 'registered_auth',
    });
    probe.terminate();
    const r = await runCli(['smoke', '--url', compatServer.url, '--json']);
    expect(r.code).toBe(0);
    expect((JSON.parse(r.stdout) as SmokeJson).ok).toBe(true);
  });
});

describe('smoke against a broken deployment fails fast', () => {
  const cleanups: (() => Promise<void>)[] = [];
  afterEach(async () => {
    await Promise.all(cleanups.splice(0).map((c) => c()));
  });

  it('a closed port exits 1 quickly and names the failing step', async () => {
    const port = await freePort();
    const r = await runCli(['smoke', '--url', `ws://127.0.0.1:${port}`, '--timeout', '1s'], { timeoutMs: 15_000 });
    expect(r.signal, 'smoke hung and had to be killed').toBeNull();
    expect(r.code).toBe(1);
    expect(r.ms).toBeLessThan(8000);
    const out = stripAnsi(r.stdout);
    expect(out).toMatch(new RegExp(`^✗ .*health http://127\\.0\\.0\\.1:${port}/health$`, 'm'));
    expect(out).toMatch(new RegExp(`smoke FAILED at "health http://127\\.0\\.0\\.1:${port}/health"`));
  });

  it('a closed port with --json reports ok: false and the failing step with its error', async () => {
    const port = await freePort();
    const r = await runCli(['smoke', '--url', `ws://127.0.0.1:${port}`, '--timeout', '1s', '--json'], { timeoutMs: 15_000 });
    expect(r.code).toBe(1);
    const result = JSON.parse(r.stdout) as SmokeJson;
    expect(result).toMatchObject({ version: 1, ok: false });
    expect(result.steps).toHaveLength(1);
    expect(result.steps[0]).toMatchObject({ name: `health http://127.0.0.1:${port}/health`, ok: false });
    expect(result.steps[0]!.error).toBeTruthy();
  });

  it('a server that accepts TCP and never answers: exit 1 within the step timeout, no hang', async () => {
    const hole = await blackHole();
    cleanups.push(hole.close);
    const r = await runCli(['smoke', '--url', `ws://127.0.0.1:${hole.port}`, '--timeout', '1s'], { timeoutMs: 15_000 });
    expect(r.signal, 'smoke hung and had to be killed').toBeNull();
    expect(r.code).toBe(1);
    expect(r.ms).toBeLessThan(8000);
    expect(stripAnsi(r.stdout)).toMatch(/smoke FAILED at "health http:\/\/127\.0\.0\.1:\d+\/health"/);
  });

  it('a server whose /health answers but whose upgrades hang: fails at "connect A", no hang', async () => {
    const sockets = new Set<Socket>();
    const hung: Server = createServer((req, res) => {
      res.writeHead(req.url === '/health' ? 200 : 404, { 'content-type': 'application/json' });
      res.end('{"status":"ok"}');
    });
    hung.on('connection', (s) => {
      sockets.add(s);
      s.on('close', () => sockets.delete(s));
    });
    hung.on('upgrade', () => {
      // Never answer the WebSocket handshake.
    });
    await new Promise<void>((resolve) => hung.listen(0, '127.0.0.1', resolve));
    cleanups.push(async () => {
      sockets.forEach((s) => s.destroy());
      await new Promise<void>((resolve) => hung.close(() => resolve()));
    });
    const { port } = hung.address() as { port: number };
    const url = `ws://127.0.0.1:${port}`;
    const r = await runCli(['smoke', '--url', url, '--timeout', '1s', '--json'], { timeoutMs: 15_000 });
    expect(r.signal, 'smoke hung and had to be killed').toBeNull();
    expect(r.code).toBe(1);
    expect(r.ms).toBeLessThan(8000);
    const result = JSON.parse(r.stdout) as SmokeJson;
    expect(result.steps.map((s) => [s.name, s.ok])).toEqual([
      [`health http://127.0.0.1:${port}/health`, true],
      [`connect A to ${url}`, false],
    ]);
  });
});

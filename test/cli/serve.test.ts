import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  ROOT,
  WsClient,
  closeAllClients,
  ensureBuilt,
  freePort,
  killAll,
  runCli,
  startServe,
  within,
  type LogLine,
} from './cli-helpers.js';

const { version } = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string };
const LOOPBACK = ['--host', '127.0.0.1'];

beforeAll(() => ensureBuilt(), 180_000);
afterEach(async () => {
  closeAllClients();
  await killAll();
});

async function register(client: WsClient, fields: Record<string, unknown>) {
  return client.request({ type: 'register', ...fields }, 'registered');
}

describe('serve as a process', () => {
  it('--port 0 logs the bound port in a JSON "listening" line; logs are JSON lines on stdout', async () => {
    const serve = await startServe(['--port', '0', ...LOOPBACK]);
    expect(serve.port).toBeGreaterThan(0);
    const listening = await serve.waitForLog((l) => l.event === 'listening');
    expect(listening).toMatchObject({ event: 'listening', msg: expect.stringMatching(/^sleap-signal \S+ listening on 127\.0\.0\.1:\d+ /), host: '127.0.0.1', backend: 'memory', service: 'sleap-signal' });

    // Something happens, so there is more than one line to look at.
    const client = await WsClient.open(`${serve.url}/`);
    await register(client, { room_id: 'logs', peer_id: 'p1' });
    await serve.waitForLog((l) => l.event === 'registered' && l.peerId === 'p1');
    for (const line of serve.lines) {
      const parsed = JSON.parse(line) as LogLine;
      expect(typeof parsed.level).toBe('number');
      expect(typeof parsed.time).toBe('number');
      expect(typeof parsed.msg).toBe('string');
    }
    expect(serve.stderr()).toBe('');
  });

  it('accepts WebSocket connections on any path and speaks the protocol', async () => {
    const serve = await startServe(['--port', '0', ...LOOPBACK]);
    const a = await WsClient.open(`${serve.url}/`);
    const b = await WsClient.open(`${serve.url}/ws`);
    expect(await a.request({ type: 'ping' }, 'pong')).toEqual({ type: 'pong' });
    const ra = await register(a, { room_id: 'r', peer_id: 'a' });
    expect(ra).toMatchObject({ type: 'registered', peer_id: 'a', room_id: 'r', peer_list: [] });
    const rb = await register(b, { room_id: 'r', peer_id: 'b' });
    expect(rb).toMatchObject({ type: 'registered', peer_id: 'b', peer_list: ['a'] });
    const list = await b.request({ type: 'discover_peers' }, 'peer_list');
    expect(list).toMatchObject({ type: 'peer_list', count: 1, peers: [{ peer_id: 'a', role: 'peer' }] });
    b.send({ type: 'peer_message', to_peer_id: 'a', payload: { hello: 1 } });
    expect(await a.next('peer_message')).toEqual({ type: 'peer_message', from_peer_id: 'b', to_peer_id: 'a', payload: { hello: 1 } });
  });

  it('/health, /metrics and an unknown path over HTTP', async () => {
    const serve = await startServe(['--port', '0', ...LOOPBACK]);
    const health = await fetch(`${serve.http}/health`);
    expect(health.status).toBe(200);
    expect(await health.json()).toMatchObject({ status: 'ok', version, backend: 'memory', connections: 0, peers: 0 });
    const metrics = await fetch(`${serve.http}/metrics`);
    expect(metrics.status).toBe(200);
    const text = await metrics.text();
    for (const name of [
      'websocket_connections_active',
      'websocket_connections_total',
      'websocket_connections_failed',
      'rooms_active',
      'peers_per_room',
      'messages_sent_total',
      'messages_failed_total',
      'message_latency_seconds',
    ]) {
      expect(text, `metric ${name}`).toMatch(new RegExp(`^# TYPE ${name} `, 'm'));
    }
    expect((await fetch(`${serve.http}/nope`)).status).toBe(404);
  });

  it('PORT and HOST env vars choose where it listens', async () => {
    const port = await freePort();
    const serve = await startServe([], { env: { PORT: String(port), HOST: '127.0.0.1' } });
    expect(serve.port).toBe(port);
    const listening = await serve.waitForLog((l) => l.event === 'listening');
    expect(listening.host).toBe('127.0.0.1');
    // Loopback only: no warning about running without authentication.
    expect(serve.lines.some((l) => l.includes('"no_auth"'))).toBe(false);
    const client = await WsClient.open(`ws://127.0.0.1:${port}/`);
    expect(await client.request({ type: 'ping' }, 'pong')).toEqual({ type: 'pong' });
  });

  it('warns when listening beyond loopback (default host 0.0.0.0)', async () => {
    const serve = await startServe(['--port', '0']);
    const warning = await serve.waitForLog((l) => l.event === 'no_auth');
    expect(warning.level).toBe(40);
    expect(warning.host).toBe('0.0.0.0');
  });

  it('a port already in use exits 1 with the reason on stderr', async () => {
    const blocker = createServer();
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
    const { port } = blocker.address() as { port: number };
    try {
      const r = await runCli(['serve', '--port', String(port), ...LOOPBACK], { timeoutMs: 10_000 });
      expect(r.signal).toBeNull();
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(/EADDRINUSE/);
    } finally {
      blocker.close();
    }
  });
});

describe('serve options take effect', () => {
  it('--max-connections, --max-peers-per-room, --max-payload', async () => {
    const serve = await startServe(['--port', '0', ...LOOPBACK, '--max-connections', '3', '--max-peers-per-room', '1', '--max-payload', '2KiB']);
    const c1 = await WsClient.open(serve.url);
    const c2 = await WsClient.open(serve.url);
    const c3 = await WsClient.open(serve.url);
    // Past the connection limit: the upgrade succeeds, then the socket is closed with 1013.
    const c4 = await WsClient.open(serve.url);
    expect(await within(c4.closed, 3000, 'close of the 4th connection')).toMatchObject({ code: 1013 });

    expect(await register(c1, { room_id: 'tiny', peer_id: 'one' })).toMatchObject({ type: 'registered' });
    expect(await register(c2, { room_id: 'tiny', peer_id: 'two' })).toMatchObject({ type: 'error', code: 'ROOM_FULL' });

    // A frame above --max-payload closes with 1009; one below it is fine.
    expect(await c3.request({ type: 'ping', pad: 'x'.repeat(1500) }, 'pong')).toEqual({ type: 'pong' });
    c3.send({ type: 'ping', pad: 'x'.repeat(2100) });
    expect(await within(c3.closed, 3000, 'close after an oversized frame')).toMatchObject({ code: 1009 });
  });

  it('--rate-limit and --heartbeat-interval', async () => {
    const serve = await startServe(['--port', '0', ...LOOPBACK, '--rate-limit', '2:5', '--heartbeat-interval', '300ms']);
    const flooder = await WsClient.open(serve.url);
    for (let i = 0; i < 30; i++) flooder.send({ type: 'ping' });
    const error = await flooder.next('error');
    expect(error).toMatchObject({ code: 'RATE_LIMITED' });
    expect(error).not.toHaveProperty('request_type');
    await new Promise((r) => setTimeout(r, 200));
    const pongs = flooder.messages.filter((m) => m.type === 'pong').length;
    expect(pongs).toBeGreaterThanOrEqual(5);
    expect(pongs).toBeLessThan(10);

    // A registered peer gets the application-level {"type":"ping"} every heartbeat interval.
    const peer = await WsClient.open(serve.url);
    await register(peer, { room_id: 'hb', peer_id: 'hb' });
    expect(await peer.next('ping', 3000)).toEqual({ type: 'ping' });
  });

  it('SLEAP_SIGNAL_COMPAT=sleap-rtc names the register reply registered_auth', async () => {
    const serve = await startServe(['--port', '0', ...LOOPBACK], { env: { SLEAP_SIGNAL_COMPAT: 'sleap-rtc' } });
    const client = await WsClient.open(serve.url);
    const reply = await client.request({ type: 'register', room_id: 'c', peer_id: 'w' }, 'registered_auth');
    expect(reply).toMatchObject({ type: 'registered_auth', peer_id: 'w', room_id: 'c' });
  });

  it('OPERATOR_TOKEN guards /delete-peer; an operator kick closes with 1000', async () => {
    const serve = await startServe(['--port', '0', ...LOOPBACK], { env: { OPERATOR_TOKEN: 's3cret' } });
    const watcher = await WsClient.open(serve.url);
    await register(watcher, { room_id: 'ops', peer_id: 'watcher', presence: true });
    const victim = await WsClient.open(serve.url);
    await register(victim, { room_id: 'ops', peer_id: 'victim' });
    await watcher.next('peer_joined');

    const post = (headers: Record<string, string>, body: unknown) =>
      fetch(`${serve.http}/delete-peer`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) });
    expect((await post({}, { peer_id: 'victim' })).status).toBe(401);
    expect((await post({ authorization: 'Bearer wrong' }, { peer_id: 'victim' })).status).toBe(401);
    expect((await post({ authorization: 'Bearer s3cret' }, { peer_id: 'nobody' })).status).toBe(404);
    const ok = await post({ authorization: 'Bearer s3cret' }, { peer_id: 'victim' });
    expect(ok.status).toBe(200);
    expect(await ok.json()).toEqual({ deleted: 'victim', room_id: 'ops' });
    expect(await within(victim.closed, 3000, 'close of the kicked peer')).toEqual({ code: 1000, reason: 'removed by an operator' });
    expect(await watcher.next('peer_left')).toEqual({ type: 'peer_left', peer_id: 'victim', reason: 'kicked' });
  });
});

describe('graceful drain', () => {
  it('SIGTERM: /health 503 and upgrades refused during the drain, clients get 1012, exit 0', async () => {
    const serve = await startServe(['--port', '0', ...LOOPBACK, '--drain-timeout', '3s']);
    const a = await WsClient.open(serve.url);
    const b = await WsClient.open(serve.url);
    await register(a, { room_id: 'drain', peer_id: 'a' });

    serve.child.kill('SIGTERM');
    await serve.waitForLog((l) => l.event === 'draining');
    const health = await fetch(`${serve.http}/health`);
    expect(health.status).toBe(503);
    expect(await health.json()).toMatchObject({ status: 'draining' });
    await expect(WsClient.open(serve.url)).rejects.toMatchObject({ statusCode: 503 });

    const closes = await within(Promise.all([a.closed, b.closed]), 8000, 'drain closes');
    expect(closes.map((c) => c.code)).toEqual([1012, 1012]);
    expect(await within(serve.exited, 8000, 'exit after the drain')).toEqual({ code: 0, signal: null });
    expect(serve.lines.some((l) => l.includes('"event":"stopped"'))).toBe(true);
    // Every line, the signal's included, names the instance.
    const logged = serve.lines.map((l) => JSON.parse(l) as { event?: string; serverId?: string });
    expect(logged.some((l) => l.event === 'signal')).toBe(true);
    expect(logged.filter((l) => typeof l.serverId !== 'string' || l.serverId === '')).toEqual([]);
  });

  it('a second SIGTERM during a long drain stops at once with 1001, exit 0', async () => {
    // A window this long makes it practically impossible for the drain to reach the client first.
    const serve = await startServe(['--port', '0', ...LOOPBACK, '--drain-timeout', '10m']);
    const client = await WsClient.open(serve.url);
    await register(client, { room_id: 'stop', peer_id: 'c' });

    serve.child.kill('SIGTERM');
    await serve.waitForLog((l) => l.event === 'draining');
    const second = performance.now();
    serve.child.kill('SIGTERM');
    expect(await within(client.closed, 5000, 'close after the second signal')).toEqual({ code: 1001, reason: 'server stopping' });
    expect(await within(serve.exited, 5000, 'exit after the second signal')).toEqual({ code: 0, signal: null });
    expect(performance.now() - second).toBeLessThan(5000);
  });
});

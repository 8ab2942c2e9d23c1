import { describe, expect, it } from 'vitest';
import { connect, freshRoom, registeredPeer, startServer, type SignalClient } from '../helpers/harness.js';
import type { SignalingServer } from '../../src/server/signaling-server.js';

/** HTTP endpoints on the WebSocket port: /health, /metrics, 404, and the operator endpoints. */

const WAIT = 5000;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function base(server: SignalingServer): string {
  return `http://127.0.0.1:${server.address.port}`;
}

async function post(
  server: SignalingServer,
  path: string,
  body: unknown,
  token?: string,
): Promise<{ status: number; body: Record<string, unknown> }> {
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  if (token !== undefined) headers.authorization = `Bearer ${token}`;
  const res = await fetch(`${base(server)}${path}`, { method: 'POST', headers, body: JSON.stringify(body) });
  const text = await res.text();
  let parsed: Record<string, unknown> = {};
  try {
    parsed = JSON.parse(text) as Record<string, unknown>;
  } catch {
    parsed = { raw: text };
  }
  return { status: res.status, body: parsed };
}

async function metricsText(server: SignalingServer): Promise<string> {
  const res = await fetch(`${base(server)}/metrics`);
  expect(res.status).toBe(200);
  return res.text();
}

/** The value of the first sample line matching `name{labels}` exactly (0 when absent). */
function sample(text: string, series: string): number {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? 0 : Number(line.slice(series.length + 1).trim().split(/\s+/)[0]);
}

async function ids(client: SignalClient): Promise<string[]> {
  const list = await client.request({ type: 'discover_peers' }, 'peer_list', WAIT);
  expect(list.type).toBe('peer_list');
  return (list.peers as Array<{ peer_id: string }>).map((p) => p.peer_id).sort();
}

/** Waits until the server has processed the closes (its connection count dropped to `n`). */
async function settle(server: SignalingServer, n: number): Promise<void> {
  const deadline = performance.now() + WAIT;
  while (server.connectionCount > n && performance.now() < deadline) await sleep(10);
  expect(server.connectionCount).toBe(n);
}

describe('GET /health', () => {
  it('is 200 {status:"ok"} as JSON while the instance can serve', async () => {
    const server = await startServer();
    const res = await fetch(`${base(server)}/health`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/application\/json/);
    const body = (await res.json()) as Record<string, unknown>;
    expect(body.status).toBe('ok');
  });

  it('answers with query strings too', async () => {
    const server = await startServer();
    const res = await fetch(`${base(server)}/health?probe=1`);
    expect(res.status).toBe(200);
  });
});

describe('GET /metrics', () => {
  it('is Prometheus text with the documented metrics', async () => {
    const server = await startServer();
    const res = await fetch(`${base(server)}/metrics`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/plain/);
    const text = await res.text();
    for (const [name, kind] of [
      ['websocket_connections_active', 'gauge'],
      ['websocket_connections_total', 'counter'],
      ['websocket_connections_failed', 'counter'],
      ['rooms_active', 'gauge'],
      ['peers_per_room', 'histogram'],
      ['messages_sent_total', 'counter'],
      ['messages_failed_total', 'counter'],
      ['message_latency_seconds', 'histogram'],
      ['redis_operations_total', 'counter'],
      ['redis_failures_total', 'counter'],
      ['process_cpu_user_seconds_total', 'counter'],
    ] as const) {
      expect(text, name).toMatch(new RegExp(`^# HELP ${name} .+$`, 'm'));
      expect(text, name).toMatch(new RegExp(`^# TYPE ${name} ${kind}$`, 'm'));
    }
    // Every non-comment line is a well-formed sample.
    for (const line of text.split('\n')) {
      if (line === '' || line.startsWith('#')) continue;
      // name{labels} value [timestamp]; values as Go's ParseFloat reads them (NaN in any case, ±Inf).
      expect(line).toMatch(/^[a-zA-Z_:][a-zA-Z0-9_:]*(\{[^}]*\})? ([-+]?(\d+(\.\d*)?|\.\d+)([eE][-+]?\d+)?|nan|[-+]?inf)( -?\d+)?$/i);
    }
  });

  it('counters move with traffic', async () => {
    const server = await startServer();
    const before = await metricsText(server);
    const room = freshRoom('metrics');
    const { client: a } = await registeredPeer(server, { room_id: room, peer_id: 'a' });
    const { client: b } = await registeredPeer(server, { room_id: room, peer_id: 'b' });
    for (let i = 0; i < 3; i++) a.send({ type: 'peer_message', to_peer_id: 'b', payload: i });
    for (let i = 0; i < 3; i++) await b.next('peer_message', WAIT);
    a.send({ type: 'offer', target: 'b', sdp: 'v=0' });
    await b.next('offer', WAIT);
    const err = await a.request({ type: 'peer_message', to_peer_id: 'nobody', payload: 1 }, '__none__', WAIT);
    expect(err.code).toBe('PEER_NOT_FOUND');
    const after = await metricsText(server);

    const delta = (series: string) => sample(after, series) - sample(before, series);
    expect(delta('messages_sent_total{type="peer_message"}')).toBe(3);
    expect(delta('messages_sent_total{type="offer"}')).toBe(1);
    expect(delta('messages_failed_total{reason="PEER_NOT_FOUND"}')).toBe(1);
    expect(delta('websocket_connections_total')).toBe(2);
    expect(sample(after, 'websocket_connections_active')).toBe(2);
    expect(sample(after, 'rooms_active')).toBe(1);
    expect(delta('message_latency_seconds_count{type="peer_message"}')).toBe(4);
    expect(sample(after, 'process_cpu_user_seconds_total')).toBeGreaterThan(0);

    // And go back down when the peers leave.
    await a.close();
    await b.close();
    await settle(server, 0);
    const later = await metricsText(server);
    expect(sample(later, 'websocket_connections_active')).toBe(0);
    expect(sample(later, 'rooms_active')).toBe(0);
  });
});

describe('GET /metrics room census', () => {
  it('peers_per_room reflects the rooms at scrape time, like rooms_active', async () => {
    const server = await startServer();
    const room = freshRoom('census');
    const other = freshRoom('census2');
    await registeredPeer(server, { room_id: room, peer_id: 'a' });
    await registeredPeer(server, { room_id: room, peer_id: 'b' });
    await registeredPeer(server, { room_id: other, peer_id: 'c' });
    // One scrape, the first: both gauges must describe the current rooms.
    const text = await metricsText(server);
    expect(sample(text, 'rooms_active')).toBe(2);
    expect({ count: sample(text, 'peers_per_room_count'), sum: sample(text, 'peers_per_room_sum') }).toEqual({ count: 2, sum: 3 });
    expect(sample(text, 'peers_per_room_bucket{le="1"}')).toBe(1);
    expect(sample(text, 'peers_per_room_bucket{le="2"}')).toBe(2);
  });
});

describe('unknown paths', () => {
  it('are 404', async () => {
    const server = await startServer();
    for (const path of ['/', '/nope', '/health/extra', '/metricsx']) {
      const res = await fetch(`${base(server)}${path}`);
      expect(res.status, path).toBe(404);
      await res.arrayBuffer();
    }
  });
});

describe('operator endpoints', () => {
  it('POST /delete-peer closes that peer, removes it from discovery, and tells subscribers "kicked"', async () => {
    const server = await startServer();
    const room = freshRoom('kick');
    const { client: victim } = await registeredPeer(server, { room_id: room, peer_id: 'victim' });
    const { client: watcher } = await registeredPeer(server, { room_id: room, peer_id: 'watcher', presence: true });
    const { client: bystander } = await registeredPeer(server, { room_id: room, peer_id: 'bystander' });
    watcher.drain();

    const res = await post(server, '/delete-peer', { peer_id: 'victim' });
    expect(res.status).toBe(200);
    await victim.closed;
    expect(await ids(watcher)).toEqual(['bystander']);
    await settle(server, 2);
    expect(await watcher.request({ type: 'ping' }, 'pong', WAIT)).toEqual({ type: 'pong' });
    // Exactly one peer_left, with reason kicked (the socket close is not announced again).
    const left = watcher.drain().filter((m) => m.type === 'peer_left');
    expect(left).toEqual([{ type: 'peer_left', peer_id: 'victim', reason: 'kicked' }]);
    const err = await bystander.request({ type: 'peer_message', to_peer_id: 'victim', payload: 1 }, '__none__', WAIT);
    expect(err.code).toBe('PEER_NOT_FOUND');
    // The id is free again.
    const { registered } = await registeredPeer(server, { room_id: room, peer_id: 'victim' });
    expect(registered.peer_id).toBe('victim');
  });

  it('POST /delete-peers-and-room {room_id} removes every peer of that room, and only of that room', async () => {
    const server = await startServer();
    const room = freshRoom('kick-room');
    const otherRoom = freshRoom('kick-other');
    const inRoom: SignalClient[] = [];
    for (const id of ['r1', 'r2', 'r3']) inRoom.push((await registeredPeer(server, { room_id: room, peer_id: id })).client);
    const { client: o1 } = await registeredPeer(server, { room_id: otherRoom, peer_id: 'o1', presence: true });
    const { client: o2 } = await registeredPeer(server, { room_id: otherRoom, peer_id: 'o2' });
    o1.drain();

    const res = await post(server, '/delete-peers-and-room', { room_id: room });
    expect(res.status).toBe(200);
    await Promise.all(inRoom.map((c) => c.closed));
    await settle(server, 2);
    // The room is gone: registering a newcomer there finds nobody.
    const { registered } = await registeredPeer(server, { room_id: room, peer_id: 'newcomer' });
    expect(registered.peer_list).toEqual([]);
    // The other room is untouched.
    expect(await ids(o2)).toEqual(['o1']);
    expect(o1.isOpen && o2.isOpen).toBe(true);
    expect(o1.drain().filter((m) => m.type === 'peer_left')).toEqual([]);
  });

  it('POST /delete-peers-and-room {peer_id} removes every peer of that peer\'s room', async () => {
    const server = await startServer();
    const room = freshRoom('kick-by-peer');
    const { client: a } = await registeredPeer(server, { room_id: room, peer_id: 'a' });
    const { client: b } = await registeredPeer(server, { room_id: room, peer_id: 'b' });
    const { client: outsider } = await registeredPeer(server, { room_id: freshRoom('x'), peer_id: 'outsider' });
    const res = await post(server, '/delete-peers-and-room', { peer_id: 'b' });
    expect(res.status).toBe(200);
    await Promise.all([a.closed, b.closed]);
    await settle(server, 1);
    const { client: c, registered } = await registeredPeer(server, { room_id: room, peer_id: 'c' });
    expect(registered.peer_list).toEqual([]);
    expect(await ids(c)).toEqual([]);
    expect(outsider.isOpen).toBe(true);
  });

  it('unknown peer or room is 404 and changes nothing', async () => {
    const server = await startServer();
    const room = freshRoom('kick-404');
    const { client: a } = await registeredPeer(server, { room_id: room, peer_id: 'a' });
    const { client: b } = await registeredPeer(server, { room_id: room, peer_id: 'b' });
    expect((await post(server, '/delete-peer', { peer_id: 'ghost' })).status).toBe(404);
    expect((await post(server, '/delete-peers-and-room', { room_id: freshRoom('ghost') })).status).toBe(404);
    expect((await post(server, '/delete-peers-and-room', { peer_id: 'ghost' })).status).toBe(404);
    expect(await ids(a)).toEqual(['b']);
    expect(a.isOpen && b.isOpen).toBe(true);
  });

  it('with an operator token: none or a wrong one is 401 and changes nothing; the right one works', async () => {
    const token = 'op-secret-7f3c';
    const server = await startServer({ operatorToken: token });
    const room = freshRoom('kick-auth');
    const { client: a } = await registeredPeer(server, { room_id: room, peer_id: 'a', presence: true });
    const { client: b } = await registeredPeer(server, { room_id: room, peer_id: 'b' });
    expect(await a.next('peer_joined', WAIT)).toMatchObject({ peer_id: 'b' });

    for (const given of [undefined, 'wrong', `${token}x`, token.slice(0, -1), '']) {
      expect((await post(server, '/delete-peer', { peer_id: 'b' }, given)).status, `token ${given}`).toBe(401);
      expect((await post(server, '/delete-peers-and-room', { room_id: room }, given)).status, `token ${given}`).toBe(401);
      expect((await post(server, '/delete-peers-and-room', { peer_id: 'b' }, given)).status, `token ${given}`).toBe(401);
    }
    // Not a bearer token: the raw token in the header is not enough either.
    const raw = await fetch(`${base(server)}/delete-peer`, {
      method: 'POST',
      headers: { authorization: token, 'content-type': 'application/json' },
      body: JSON.stringify({ peer_id: 'b' }),
    });
    expect(raw.status).toBe(401);
    expect(await ids(a)).toEqual(['b']);
    expect(a.isOpen && b.isOpen).toBe(true);
    expect(a.drain()).toEqual([]);

    expect((await post(server, '/delete-peer', { peer_id: 'b' }, token)).status).toBe(200);
    await b.closed;
    expect(await a.next('peer_left', WAIT)).toEqual({ type: 'peer_left', peer_id: 'b', reason: 'kicked' });
    expect(await ids(a)).toEqual([]);
    expect((await post(server, '/delete-peers-and-room', { room_id: room }, token)).status).toBe(200);
    await a.closed;
  });

  it('the WebSocket upgrade works on any path, next to the HTTP endpoints', async () => {
    const server = await startServer();
    for (const path of ['/', '/ws', '/health', '/anything/else']) {
      const c = await connect(server, path);
      expect(await c.request({ type: 'ping' }, 'pong', WAIT)).toEqual({ type: 'pong' });
    }
  });
});

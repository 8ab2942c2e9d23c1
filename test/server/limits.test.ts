import { describe, expect, it } from 'vitest';
import { connect, freshRoom, registeredPeer, startServer } from '../helpers/harness.js';
import type { SignalingServer } from '../../src/server/signaling-server.js';

/** Connection limit: past maxConnections a new connection is closed with 1013 (try again later). */

const WAIT = 5000;

async function metric(server: SignalingServer, line: RegExp): Promise<number> {
  const text = await (await fetch(`http://127.0.0.1:${server.address.port}/metrics`)).text();
  const m = text.split('\n').find((l) => line.test(l));
  return m === undefined ? 0 : Number(m.trim().split(/\s+/).at(-1));
}

describe('connection limit', () => {
  it('the third connection is closed with 1013 while two are open; the two are unaffected', async () => {
    const server = await startServer({ maxConnections: 2 });
    const room = freshRoom('limit');
    const { client: a } = await registeredPeer(server, { room_id: room, peer_id: 'a', presence: true });
    const { client: b } = await registeredPeer(server, { room_id: room, peer_id: 'b' });

    const c = await connect(server);
    const closed = await c.closed;
    expect(closed.code).toBe(1013);
    expect(server.connectionCount).toBe(2);
    expect(await metric(server, /^websocket_connections_failed\{reason="connection_limit"\}/)).toBe(1);

    // A fourth attempt is refused the same way.
    const d = await connect(server);
    expect((await d.closed).code).toBe(1013);

    // The two that were in are still fully served and saw nothing.
    a.send({ type: 'peer_message', to_peer_id: 'b', payload: 'hi' });
    expect(await b.next('peer_message', WAIT)).toEqual({ type: 'peer_message', from_peer_id: 'a', to_peer_id: 'b', payload: 'hi' });
    expect(await a.request({ type: 'ping' }, 'pong', WAIT)).toEqual({ type: 'pong' });
    // a (a presence subscriber) saw b join and nothing about the refused connections.
    // Heartbeat pings may come at any moment of the interval; nothing else is expected.
    expect(a.drain().map((m) => m.type).filter((t) => t !== 'ping')).toEqual(['peer_joined']);
  });

  it('a slot freed by a close can be used again', async () => {
    const server = await startServer({ maxConnections: 2 });
    const room = freshRoom('limit-reuse');
    const { client: a } = await registeredPeer(server, { room_id: room, peer_id: 'a' });
    const { client: b } = await registeredPeer(server, { room_id: room, peer_id: 'b' });
    expect((await (await connect(server)).closed).code).toBe(1013);

    await b.close();
    // The server notices the close asynchronously; wait until the slot is free.
    const deadline = performance.now() + WAIT;
    while (server.connectionCount > 1 && performance.now() < deadline) await new Promise((r) => setTimeout(r, 10));
    expect(server.connectionCount).toBe(1);

    const { client: c, registered } = await registeredPeer(server, { room_id: room, peer_id: 'c' });
    expect(registered.peer_list).toEqual(['a']);
    expect(c.isOpen).toBe(true);
    expect(a.isOpen).toBe(true);
  });

  it('rejected connections are not counted as open', async () => {
    const server = await startServer({ maxConnections: 1 });
    const a = await connect(server);
    for (let i = 0; i < 3; i++) expect((await (await connect(server)).closed).code).toBe(1013);
    expect(server.connectionCount).toBe(1);
    expect(await metric(server, /^websocket_connections_active /)).toBe(1);
    expect(await metric(server, /^websocket_connections_failed\{reason="connection_limit"\}/)).toBe(3);
    expect(await a.request({ type: 'ping' }, 'pong', WAIT)).toEqual({ type: 'pong' });
  });
});

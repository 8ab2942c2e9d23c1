import { describe, expect, it } from 'vitest';
import { connect, freshRoom, registeredPeer, startServer, type SignalClient } from '../helpers/harness.js';

/**
 * Heartbeat: every interval the server sends WebSocket protocol pings (and `{"type":"ping"}` to
 * registered peers); a connection that answers no protocol ping is terminated within two
 * intervals, and presence subscribers are told `peer_left` with reason `timeout`.
 */

const INTERVAL = 200;
const WAIT = 5000;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function socketOf(client: SignalClient): { pause(): void; resume(): void } {
  return (client.ws as unknown as { _socket: { pause(): void; resume(): void } })._socket;
}

describe('heartbeat', () => {
  it('a connection that answers no protocol ping is terminated within two intervals, and announced as timeout', async () => {
    const server = await startServer({ heartbeatIntervalMs: INTERVAL });
    const room = freshRoom('hb');
    const { client: dead } = await registeredPeer(server, { room_id: room, peer_id: 'dead' });
    const { client: watcher } = await registeredPeer(server, { room_id: room, peer_id: 'watcher', presence: true });
    await sleep(INTERVAL * 1.5); // both have been through a heartbeat round

    const t0 = performance.now();
    socketOf(dead).pause(); // reads nothing from now on, so answers no protocol ping
    const left = await watcher.next((m) => m.type === 'peer_left', WAIT);
    const elapsed = performance.now() - t0;
    expect(left).toEqual({ type: 'peer_left', peer_id: 'dead', reason: 'timeout' });
    // Two intervals, plus generous slack for timers on a loaded machine.
    expect(elapsed).toBeLessThan(2 * INTERVAL + 800);

    // Removed from discovery; relays to it fail.
    const list = await watcher.request({ type: 'discover_peers' }, 'peer_list', WAIT);
    expect(list.peers).toEqual([]);
    const err = await watcher.request({ type: 'peer_message', to_peer_id: 'dead', payload: 1 }, '__none__', WAIT);
    expect(err).toMatchObject({ type: 'error', code: 'PEER_NOT_FOUND' });

    // The server cut the socket: once the client reads again it sees the connection gone.
    socketOf(dead).resume();
    const closed = await dead.closed;
    expect(closed.code).not.toBe(1000);
    expect(server.connectionCount).toBe(1);
    // The watcher was kept.
    expect(watcher.isOpen).toBe(true);
    expect(watcher.drain().filter((m) => m.type === 'peer_left')).toEqual([]);
  });

  it('an unregistered connection that answers no protocol ping is terminated too', async () => {
    const server = await startServer({ heartbeatIntervalMs: INTERVAL });
    const c = await connect(server);
    await sleep(INTERVAL * 1.5);
    socketOf(c).pause();
    const deadline = performance.now() + 2 * INTERVAL + 800;
    while (server.connectionCount > 0 && performance.now() < deadline) await sleep(20);
    expect(server.connectionCount).toBe(0);
    socketOf(c).resume();
    await c.closed;
  });

  it('live registered clients get {"type":"ping"} every interval and stay connected', async () => {
    const server = await startServer({ heartbeatIntervalMs: INTERVAL });
    const room = freshRoom('hb-live');
    const { client: a } = await registeredPeer(server, { room_id: room, peer_id: 'a', presence: true });
    const { client: b } = await registeredPeer(server, { room_id: room, peer_id: 'b' });
    const idle = await connect(server); // not registered: protocol pings only

    // Six intervals: the clients send nothing at all; only ws answers the protocol pings.
    await sleep(INTERVAL * 6);

    for (const c of [a, b]) {
      expect(c.isOpen).toBe(true);
      const pings = c.drain().filter((m) => m.type === 'ping');
      expect(pings.length).toBeGreaterThanOrEqual(3);
      expect(pings.length).toBeLessThanOrEqual(8);
      for (const p of pings) expect(p).toEqual({ type: 'ping' });
    }
    // Nobody left: a got no peer_left about b, and discovery still lists both.
    expect(a.received.filter((m) => m.type === 'peer_left')).toEqual([]);
    const list = await a.request({ type: 'discover_peers' }, 'peer_list', WAIT);
    expect((list.peers as Array<{ peer_id: string }>).map((p) => p.peer_id)).toEqual(['b']);
    // The unregistered connection gets no application ping, but is kept.
    expect(idle.isOpen).toBe(true);
    expect(idle.received).toEqual([]);
    expect(server.connectionCount).toBe(3);
  });
});

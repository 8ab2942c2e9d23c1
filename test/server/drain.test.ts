import { describe, expect, it } from 'vitest';
import { connect, freshRoom, registeredPeer, startServer, type SignalClient } from '../helpers/harness.js';
import type { SignalingServer } from '../../src/server/signaling-server.js';

/**
 * Graceful drain and immediate stop. drain(): /health turns 503 at once, upgrades are refused,
 * every connection is closed with 1012, spread over drainTimeoutMs, subscribers are told
 * `server_shutdown`, and drain() resolves. stop(): everything closed with 1001 at once.
 */

const WAIT = 5000;

function httpUrl(server: SignalingServer, path: string): string {
  return `http://127.0.0.1:${server.address.port}${path}`;
}

async function health(server: SignalingServer): Promise<{ status: number; body: Record<string, unknown> }> {
  const res = await fetch(httpUrl(server, '/health'));
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

describe('drain', () => {
  it('closes every connection with 1012, spread over the window; health 503 and upgrades refused meanwhile', async () => {
    const WINDOW = 1000;
    const server = await startServer({ drainTimeoutMs: WINDOW });
    const room = freshRoom('drain');
    const peers: Array<{ id: string; client: SignalClient }> = [];
    for (let i = 0; i < 18; i++) {
      const id = `p${String(i).padStart(2, '0')}`;
      peers.push({ id, client: (await registeredPeer(server, { room_id: room, peer_id: id })).client });
    }
    const unregistered = await connect(server);
    // The subscriber connects last, so it is among the last to be closed.
    const { client: watcher } = await registeredPeer(server, { room_id: room, peer_id: 'watcher', presence: true });
    const all: SignalClient[] = [...peers.map((p) => p.client), unregistered, watcher];
    expect(all).toHaveLength(20);
    expect((await health(server)).status).toBe(200);
    const healthUrl = httpUrl(server, '/health');

    const closedAt = new Map<SignalClient, number>();
    const closes = all.map((c) => c.closed.then((info) => (closedAt.set(c, performance.now()), info)));

    const t0 = performance.now();
    let drainResolved = false;
    const drained = server.drain().then(() => (drainResolved = true));

    // At once: /health is 503 with a reason, and a new upgrade is refused.
    const h = await health(server);
    expect(h.status).toBe(503);
    expect(h.body.status).not.toBe('ok');
    expect(typeof h.body.reason).toBe('string');
    const refused = await connect(server).then(
      (c) => ({ accepted: true, open: c.isOpen }),
      (e: Error) => ({ refused: e.message }),
    );
    expect(refused).toHaveProperty('refused');
    // Connections not yet closed are still served meanwhile.
    expect(await watcher.request({ type: 'ping' }, 'pong', WAIT)).toEqual({ type: 'pong' });
    expect(drainResolved).toBe(false);

    const infos = await Promise.all(closes);
    for (const info of infos) expect(info.code).toBe(1012);
    await drained;
    const took = performance.now() - t0;
    expect(took).toBeLessThan(WINDOW + 4000);

    // Spread over the window, not all within the same few ms.
    const times = [...closedAt.values()].sort((x, y) => x - y);
    const spread = times.at(-1)! - times[0]!;
    expect(spread).toBeGreaterThan(WINDOW * 0.4);
    // No burst: no 50 ms span holds more than a third of the closes.
    let maxInSpan = 0;
    for (let i = 0; i < times.length; i++) {
      let j = i;
      while (j < times.length && times[j]! - times[i]! <= 50) j++;
      maxInSpan = Math.max(maxInSpan, j - i);
    }
    expect(maxInSpan).toBeLessThanOrEqual(7);

    // The subscriber was told about peers that left before it, with reason server_shutdown.
    const leftMsgs = watcher.received.filter((m) => m.type === 'peer_left');
    for (const m of leftMsgs) expect(m.reason).toBe('server_shutdown');
    const toldAbout = new Set(leftMsgs.map((m) => m.peer_id));
    expect(toldAbout.has('watcher')).toBe(false);
    const watcherClosed = closedAt.get(watcher)!;
    const clearlyBefore = peers.filter((p) => closedAt.get(p.client)! < watcherClosed - 150).map((p) => p.id);
    expect(clearlyBefore.length).toBeGreaterThan(5);
    for (const id of clearlyBefore) expect(toldAbout.has(id), `peer_left for ${id}`).toBe(true);

    // Stopped: nothing is listening any more.
    expect(server.connectionCount).toBe(0);
    await expect(fetch(healthUrl)).rejects.toThrow();
  });

  it('drain() with no connections resolves promptly and refuses new connections', async () => {
    const server = await startServer({ drainTimeoutMs: 10_000 });
    const t0 = performance.now();
    await server.drain();
    expect(performance.now() - t0).toBeLessThan(3000);
    await expect(connect(server)).rejects.toThrow();
  });
});

describe('stop', () => {
  it('closes every connection with 1001 at once', async () => {
    const server = await startServer({ drainTimeoutMs: 10_000 });
    const room = freshRoom('stop');
    const clients: SignalClient[] = [];
    for (let i = 0; i < 5; i++) clients.push((await registeredPeer(server, { room_id: room, peer_id: `s${i}` })).client);
    clients.push(await connect(server));
    const t0 = performance.now();
    await server.stop();
    const infos = await Promise.all(clients.map((c) => c.closed));
    expect(performance.now() - t0).toBeLessThan(3000);
    for (const info of infos) expect(info.code).toBe(1001);
    expect(server.connectionCount).toBe(0);
    await expect(connect(server)).rejects.toThrow();
  });

  it('stop() during a drain ends it at once with 1001 for the connections still open', async () => {
    const server = await startServer({ drainTimeoutMs: 5000 });
    const room = freshRoom('stop-drain');
    const clients: SignalClient[] = [];
    for (let i = 0; i < 10; i++) clients.push((await registeredPeer(server, { room_id: room, peer_id: `d${i}` })).client);
    const drained = server.drain();
    await new Promise((r) => setTimeout(r, 300));
    const t0 = performance.now();
    await server.stop();
    const infos = await Promise.all(clients.map((c) => c.closed));
    expect(performance.now() - t0).toBeLessThan(3000);
    await drained;
    const codes = infos.map((i) => i.code);
    // The early ones got 1012 from the drain, the rest 1001 from the stop; the later ones dominate.
    for (const code of codes) expect([1012, 1001]).toContain(code);
    expect(codes.filter((c) => c === 1001).length).toBeGreaterThanOrEqual(5);
  });
});

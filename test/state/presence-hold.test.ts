import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { StateUnavailableError } from '../../src/protocol/error-codes.js';
import { RedisBackend } from '../../src/state/redis/redis-backend.js';
import type { BusSink, OutboundFrame, PeerRecord } from '../../src/state/state-backend.js';
import { NULL_SINK } from '../helpers/null-sink.js';
import { RedisProcess, requireRedis } from '../helpers/redis-process.js';

/** A sink that records the presence frames it is handed. */
function presenceSink(): BusSink & { frames: string[] } {
  const frames: string[] = [];
  return { ...NULL_SINK, frames, presence: (_room: string, _about: string, frame: OutboundFrame) => void frames.push(frame.toString()) };
}

describe.runIf(requireRedis())('presence events held after a failed publish (Redis backend)', () => {
  const redis = new RedisProcess();
  beforeAll(() => redis.start());
  afterAll(() => redis.stop());

  it('are sent once the failed publish can be retried, and later events are not held forever behind them', async () => {
    const prefix = 'hold:';
    const [a, b] = [new RedisBackend({ url: redis.url, prefix }), new RedisBackend({ url: redis.url, prefix })];
    const [sa, sb] = [presenceSink(), presenceSink()];
    await a.start({ serverId: 'ha', host: '127.0.0.1', port: 0, version: 't', startedAt: 0 }, sa);
    await b.start({ serverId: 'hb', host: '127.0.0.1', port: 0, version: 't', startedAt: 0 }, sb);
    try {
      // b has a presence subscriber in the room, so a's events are published to b.
      const watcher: PeerRecord = {
        peerId: 'w', roomId: 'r', role: 'peer', metadata: {}, connectedAt: 1, serverId: 'hb', connectionId: 'hb:1', sessionToken: 's', subject: null, presence: true,
      };
      await b.register({ record: watcher, current: null, wantAdmin: false, proof: { sessionToken: null, subject: null }, newestWins: false, maxPeersPerRoom: 10 });
      // One publish times out while Redis itself stays reachable (fault injection on the backend's private bus).
      const bus = (a as unknown as { bus: { fanOutPresence: (...args: unknown[]) => Promise<void> } }).bus;
      const real = bus.fanOutPresence.bind(bus);
      bus.fanOutPresence = async () => {
        bus.fanOutPresence = real;
        throw new StateUnavailableError('Redis presence timed out');
      };
      await a.publishPresence('r', 'ha:9', '{"n":1}');
      await a.publishPresence('r', 'ha:9', '{"n":2}');
      // a's own subscribers heard both at once; b hears both, in order, without any outage or restore.
      expect(sa.frames).toEqual(['{"n":1}', '{"n":2}']);
      const deadline = Date.now() + 8000;
      while (sb.frames.length < 2 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
      expect(sb.frames).toEqual(['{"n":1}', '{"n":2}']);
      // And the queue is empty again: the next event goes straight out.
      await a.publishPresence('r', 'ha:9', '{"n":3}');
      await new Promise((r) => setTimeout(r, 300));
      expect(sb.frames).toEqual(['{"n":1}', '{"n":2}', '{"n":3}']);
    } finally {
      await a.stop();
      await b.stop();
    }
  }, 20_000);
});

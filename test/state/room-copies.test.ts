import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RedisBackend } from '../../src/state/redis/redis-backend.js';
import type { PeerRecord } from '../../src/state/state-backend.js';
import { NULL_SINK as sink } from '../helpers/null-sink.js';
import { RedisProcess, requireRedis } from '../helpers/redis-process.js';

/** About 15 KB of metadata per peer, as in the review's churn. */
const bulky = { properties: { blob: 'x'.repeat(15_000) } };

describe.runIf(requireRedis())('an instance\'s copies of rooms (Redis backend)', () => {
  const redis = new RedisProcess();
  let seq = 0;
  beforeAll(() => redis.start());
  afterAll(() => redis.stop());

  async function backend(roomCopyBytes?: number): Promise<RedisBackend> {
    const b = new RedisBackend({ url: redis.url, prefix: `copies${++seq}:`, ...(roomCopyBytes ? { roomCopyBytes } : {}) });
    await b.start({ serverId: `s${seq}`, host: '127.0.0.1', port: 0, version: 't', startedAt: 0 }, sink);
    return b;
  }

  const record = (serverId: string, peerId: string, roomId: string): PeerRecord => ({
    peerId, roomId, role: 'worker', metadata: bulky, connectedAt: Date.now() / 1000, serverId, connectionId: `${serverId}:${peerId}`,
    sessionToken: 't', subject: null, presence: false,
  });
  const join = (b: RedisBackend, serverId: string, peerId: string, roomId: string) =>
    b.register({ record: record(serverId, peerId, roomId), current: null, wantAdmin: false, proof: { sessionToken: null, subject: null }, newestWins: false, maxPeersPerRoom: 100 });

  it('keep nothing of rooms everyone left', async () => {
    const b = await backend();
    const serverId = `s${seq}`;
    try {
      for (let r = 0; r < 20; r++) for (let p = 0; p < 4; p++) await join(b, serverId, `p${r}-${p}`, `room-${r}`);
      expect(b.roomCopies().rooms).toBe(20);
      expect(b.roomCopies().bytes).toBeGreaterThan(20 * 4 * 15_000);
      for (let r = 0; r < 20; r++) for (let p = 0; p < 4; p++) await b.unregister(`p${r}-${p}`, `${serverId}:p${r}-${p}`);
      expect(b.roomCopies()).toEqual({ rooms: 0, bytes: 0 });
    } finally {
      await b.stop();
    }
  });

  it('stay within their byte budget however many rooms are joined', async () => {
    const budget = 400_000;
    const b = await backend(budget);
    const serverId = `s${seq}`;
    try {
      for (let r = 0; r < 30; r++) for (let p = 0; p < 3; p++) await join(b, serverId, `q${r}-${p}`, `big-${r}`);
      const { rooms, bytes } = b.roomCopies();
      expect(bytes).toBeLessThanOrEqual(budget);
      expect(rooms).toBeGreaterThan(0);
      // Discovery is still right for a room whose copy was dropped.
      expect((await b.listRoom('big-0')).map((p) => p.peerId)).toEqual(['q0-0', 'q0-1', 'q0-2']);
      expect(b.roomCopies().bytes).toBeLessThanOrEqual(budget);
    } finally {
      await b.stop();
    }
  });
});

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RedisBackend } from '../../src/state/redis/redis-backend.js';
import type { PeerRecord } from '../../src/state/state-backend.js';
import { NULL_SINK as sink } from '../helpers/null-sink.js';
import { RedisProcess, requireRedis } from '../helpers/redis-process.js';

describe.runIf(requireRedis())('round trips of a registration (Redis backend)', () => {
  const redis = new RedisProcess();
  beforeAll(() => redis.start());
  afterAll(() => redis.stop());

  it('a first registration is one call; a reconnect offering its session token goes straight to claim + join', async () => {
    const b = new RedisBackend({ url: redis.url, prefix: 'calls:' });
    await b.start({ serverId: 'rc', host: '127.0.0.1', port: 0, version: 't', startedAt: 0 }, sink);
    const calls: string[] = [];
    const scripts = (b as unknown as { core: { scripts: Record<string, (...a: unknown[]) => Promise<unknown>> } }).core.scripts;
    for (const name of ['registerFresh', 'claim', 'join'] as const) {
      const real = scripts[name]!.bind(scripts);
      scripts[name] = (...args: unknown[]) => (calls.push(name), real(...args));
    }
    const record = (connectionId: string, sessionToken: string): PeerRecord => ({
      peerId: 'p', roomId: 'r', role: 'worker', metadata: {}, connectedAt: 1, serverId: 'rc', connectionId, sessionToken, subject: null, presence: false,
    });
    try {
      const first = await b.register({ record: record('rc:1', 's1'), current: null, wantAdmin: false, proof: { sessionToken: null, subject: null }, newestWins: false, maxPeersPerRoom: 10 });
      expect(first.ok).toBe(true);
      expect(calls).toEqual(['registerFresh']);
      calls.length = 0;
      // The old connection is gone (a killed instance); the client comes back with its token.
      const back = await b.register({ record: record('rc:2', 's2'), current: null, wantAdmin: false, proof: { sessionToken: 's1', subject: null }, newestWins: false, maxPeersPerRoom: 10 });
      expect(back.ok).toBe(true);
      expect(calls).toEqual(['claim', 'join']);
    } finally {
      await b.stop();
    }
  });
});

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RedisBackend } from '../../src/state/redis/redis-backend.js';
import { NULL_SINK as sink } from '../helpers/null-sink.js';
import { RedisProcess, requireRedis } from '../helpers/redis-process.js';

describe.runIf(requireRedis())('session tokens in Redis', () => {
  const redis = new RedisProcess();
  beforeAll(() => redis.start());
  afterAll(() => redis.stop());

  it('are kept as hashes only: no key or value holds a token, and a takeover still proves itself with one', async () => {
    const prefix = 'tokens:';
    const [a, b] = [new RedisBackend({ url: redis.url, prefix }), new RedisBackend({ url: redis.url, prefix })];
    await a.start({ serverId: 'ta', host: '127.0.0.1', port: 0, version: 't', startedAt: 0 }, sink);
    await b.start({ serverId: 'tb', host: '127.0.0.1', port: 0, version: 't', startedAt: 0 }, sink);
    const client = redis.client();
    try {
      const token = 'SESSION-TOKEN-PLAIN-77c1f0';
      const base = { peerId: 'x', roomId: 'r', role: 'worker', metadata: {}, connectedAt: 1, subject: null, presence: false };
      const first = await a.register({
        record: { ...base, serverId: 'ta', connectionId: 'ta:1', sessionToken: token }, current: null, wantAdmin: false,
        proof: { sessionToken: null, subject: null }, newestWins: false, maxPeersPerRoom: 10,
      });
      expect(first.ok && first.record.sessionToken).toBe(token);
      // Everything under the prefix, as text: the token is nowhere.
      const dump: string[] = [];
      for (const key of await client.keys(`${prefix}*`)) {
        const type = await client.type(key);
        if (type === 'hash') dump.push(JSON.stringify(await client.hgetall(key)));
        else if (type === 'string') dump.push((await client.get(key)) ?? '');
        else if (type === 'set') dump.push(...(await client.smembers(key)));
        else if (type === 'zset') dump.push(...(await client.zrange(key, 0, -1)));
      }
      expect(dump.length).toBeGreaterThan(0);
      expect(dump.join('\n')).not.toContain(token);
      // A takeover on the other instance with the token keeps it; a wrong one is refused.
      const wrong = await b.register({
        record: { ...base, serverId: 'tb', connectionId: 'tb:1', sessionToken: 'fresh-1' }, current: null, wantAdmin: false,
        proof: { sessionToken: `${token}x`, subject: null }, newestWins: false, maxPeersPerRoom: 10,
      });
      expect(wrong).toEqual({ ok: false, code: 'PEER_ID_TAKEN' });
      const taken = await b.register({
        record: { ...base, serverId: 'tb', connectionId: 'tb:2', sessionToken: 'fresh-2' }, current: null, wantAdmin: false,
        proof: { sessionToken: token, subject: null }, newestWins: false, maxPeersPerRoom: 10,
      });
      expect(taken.ok && taken.record.sessionToken).toBe(token);
    } finally {
      client.disconnect();
      await a.stop();
      await b.stop();
    }
  });
});

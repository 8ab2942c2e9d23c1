import { describe, expect, it } from 'vitest';
import { connect, freshRoom, registeredPeer, startServer } from '../helpers/harness.js';
import { useRedisCluster } from '../helpers/cluster.js';
import { requireRedis } from '../helpers/redis-process.js';
import { capturedLogger } from '../helpers/log-lines.js';

const METADATA_SECRET = 'METADATA-SECRET-8d21';

describe.runIf(requireRedis())('a failed Redis call, logged at debug level', () => {
  const cluster = useRedisCluster();

  it('names the operation and the error, never the command\'s arguments (session tokens, records)', async () => {
    const { logger, lines } = capturedLogger('debug');
    const server = await startServer({}, { state: cluster.backend(), logger });
    const room = freshRoom();
    const holder = await registeredPeer(server, { room_id: room, peer_id: 'held' });
    const sessionToken = String(holder.registered.session_token);
    const redis = cluster.redis.client();
    try {
      // Every write is now refused by Redis (OOM): registrations fail with SERVICE_UNAVAILABLE.
      await redis.config('SET', 'maxmemory-policy', 'noeviction');
      await redis.config('SET', 'maxmemory', '1');
      const c = await connect(server);
      const fresh = await c.request({ type: 'register', room_id: room, peer_id: 'fresh', metadata: { properties: { s: METADATA_SECRET } } }, 'registered');
      expect(fresh.code).toBe('SERVICE_UNAVAILABLE');
      const takeover = await c.request({ type: 'register', room_id: room, peer_id: 'held', session_token: sessionToken, metadata: { properties: { s: METADATA_SECRET } } }, 'registered');
      expect(takeover.code).toBe('SERVICE_UNAVAILABLE');
    } finally {
      await redis.config('SET', 'maxmemory', '0');
      redis.disconnect();
    }
    const failures = lines.filter((l) => l.includes('shared state operation failed'));
    expect(failures.length).toBeGreaterThanOrEqual(2);
    expect(failures.some((l) => l.includes('OOM'))).toBe(true);
    for (const line of lines) {
      expect(line).not.toContain(METADATA_SECRET);
      expect(line).not.toContain(sessionToken);
    }
    await server.stop();
  });
});

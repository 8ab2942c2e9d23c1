import { Cluster, type ChainableCommander } from 'ioredis';
import type { RedisClient } from '../state/redis/redis-client.js';

/**
 * A pipeline for either kind of client. On a standalone Redis it is ioredis's own. On a Redis
 * Cluster, whose pipelines must stay on one node, it records the commands and sends them as
 * separate commands that the client pipelines per node (enableAutoPipelining), answering in the
 * same [error, reply] shape.
 */
export function pipelineOf(client: RedisClient): ChainableCommander {
  if (!(client instanceof Cluster)) return client.pipeline();
  const calls: { name: string; args: unknown[] }[] = [];
  const recorder: ChainableCommander = new Proxy({} as ChainableCommander, {
    get(_target, property: string) {
      if (property === 'exec') {
        return async () => {
          const settled = await Promise.allSettled(
            calls.map(({ name, args }) => (client as unknown as Record<string, (...a: unknown[]) => Promise<unknown>>)[name]!(...args)),
          );
          return settled.map((s) => (s.status === 'fulfilled' ? [null, s.value] : [s.reason as Error, null]));
        };
      }
      if (property === 'then') return undefined; // not a promise
      return (...args: unknown[]) => {
        calls.push({ name: property, args });
        return recorder;
      };
    },
  });
  return recorder;
}

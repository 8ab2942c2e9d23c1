import { MemoryBackend } from './memory/memory-backend.js';
import type { RedisBackendOptions } from './redis/redis-options.js';
import type { StateBackend } from './state-backend.js';

export type BackendConfig = { kind: 'memory' } | ({ kind: 'redis' } & Partial<RedisBackendOptions> & { url: string });

/** The Redis backend (and ioredis) is loaded only when Redis is configured. */
export async function createStateBackend(config: BackendConfig): Promise<StateBackend> {
  if (config.kind === 'memory') return new MemoryBackend();
  const { RedisBackend } = await import('./redis/redis-backend.js');
  return new RedisBackend(config);
}

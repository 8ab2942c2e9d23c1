import { MemoryBackend } from './memory/memory-backend.js';
import { RedisBackend, type RedisBackendOptions } from './redis/redis-backend.js';
import type { StateBackend } from './state-backend.js';

export type BackendConfig = { kind: 'memory' } | ({ kind: 'redis' } & Partial<RedisBackendOptions> & { url: string });

export function createStateBackend(config: BackendConfig): StateBackend {
  return config.kind === 'memory' ? new MemoryBackend() : new RedisBackend(config);
}

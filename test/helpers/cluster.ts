import { afterAll, afterEach, beforeAll } from 'vitest';
import { RedisBackend, type RedisBackendOptions } from '../../src/state/redis/redis-backend.js';
import type { SignalingServer } from '../../src/server/signaling-server.js';
import type { ServerConfig } from '../../src/server/server-options.js';
import { RedisProcess } from './redis-process.js';
import { startServer } from './harness.js';

/** One real redis-server for a test file, and in-process servers sharing it under a fresh prefix per test. */
export function useRedisCluster() {
  const redis = new RedisProcess();
  let prefixSeq = 0;
  let prefix = '';
  beforeAll(async () => {
    await redis.start();
  });
  afterAll(async () => {
    await redis.stop();
  });
  afterEach(() => {
    prefix = '';
  });
  const currentPrefix = () => (prefix ||= `t${process.pid}-${++prefixSeq}:`);
  return {
    redis,
    get prefix() {
      return currentPrefix();
    },
    backend(options: Partial<RedisBackendOptions> = {}): RedisBackend {
      return new RedisBackend({ url: redis.url, prefix: currentPrefix(), reapAfterMs: 1500, ...options });
    },
    async servers(n: number, config: ServerConfig = {}, options: Partial<RedisBackendOptions> = {}): Promise<SignalingServer[]> {
      const out: SignalingServer[] = [];
      for (let i = 0; i < n; i++) out.push(await startServer(config, { state: this.backend(options) }));
      return out;
    },
  };
}

export function metricValue(text: string, name: string, labels = ''): number {
  const line = text.split('\n').find((l) => l.startsWith(`${name}${labels} `) || (labels === '' && l.startsWith(`${name} `)));
  return line ? Number(line.split(' ').pop()) : 0;
}

export async function scrape(server: SignalingServer): Promise<string> {
  return server.metrics.registry.metrics();
}

export async function eventually<T>(fn: () => Promise<T> | T, check: (v: T) => boolean, ms = 5000, step = 50): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (check(v)) return v;
    if (Date.now() > end) throw new Error(`condition not met within ${ms} ms; last value: ${JSON.stringify(v)}`);
    await new Promise((r) => setTimeout(r, step));
  }
}

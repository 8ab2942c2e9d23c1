import { parseHostPort } from '../net/host-port.js';
import { UsageError } from '../options/usage-error.js';

/** `--redis` and `--redis-cluster` as given: a redis:// or rediss:// URL, and host:port seed nodes. */
export function checkRedisFlags(redis: string | undefined, cluster?: readonly string[]): void {
  if (redis !== undefined && !/^rediss?:\/\//.test(redis)) throw new UsageError(`--redis must be a redis:// or rediss:// URL, got "${redis}"`);
  for (const node of cluster ?? []) if (parseHostPort(node) === null) throw new UsageError(`--redis-cluster nodes must be host:port, got "${node}"`);
}

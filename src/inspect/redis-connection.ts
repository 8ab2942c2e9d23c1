import { Cluster, Redis } from 'ioredis';
import { clusterNodes, type RedisClient } from '../state/redis/redis-client.js';
import { waitReady } from '../state/redis/connection.js';
import { redactUrl } from '../net/redact-url.js';
import { errorText } from '../net/error-text.js';

export interface InspectConnectOptions {
  readonly url: string;
  /** Seed nodes of a Redis Cluster (host:port); then `url` is only used in messages. */
  readonly cluster?: readonly string[];
  /** How long the first connection may take before the command fails. */
  readonly connectTimeoutMs: number;
  /**
   * Reconnect after a lost connection (for `--watch`, which should outlive a Redis restart).
   * The first connection is never retried: a wrong URL fails at once.
   */
  readonly reconnect?: boolean;
}

/** Raised when Redis cannot be reached (exit code 1, message printed as is). */
export class RedisUnreachableError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'RedisUnreachableError';
  }
}

/**
 * Connects the operator commands' Redis client: one connection, a short connect timeout, no
 * offline queue and no retry of the first connection, so a bad URL fails fast and clearly.
 */
export async function connectRedis(options: InspectConnectOptions): Promise<RedisClient> {
  let connectedOnce = false;
  const deadline = Date.now() + options.connectTimeoutMs;
  const nodeOptions = {
    lazyConnect: true,
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
    connectTimeout: options.connectTimeoutMs,
    commandTimeout: Math.max(5_000, options.connectTimeoutMs),
    connectionName: 'sleap-signal-inspect',
    // A socket that never connected is not kept for ioredis's default 2 s before the process may exit.
    disconnectTimeout: 100,
    // No retry until the first connection succeeded; then (in watch mode) every second.
    retryStrategy: () => (connectedOnce && options.reconnect ? 1000 : null),
  };
  const redis: RedisClient = options.cluster
    ? new Cluster(
        clusterNodes(options.cluster),
        {
          lazyConnect: true,
          enableOfflineQueue: false,
          enableAutoPipelining: true,
          // The first slot-table fetch sometimes races the node sockets: retry it within the timeout.
          clusterRetryStrategy: () => (!connectedOnce ? (Date.now() < deadline ? 100 : null) : options.reconnect ? 1000 : null),
          redisOptions: { ...nodeOptions, lazyConnect: false },
        },
      )
    : new Redis(options.url, nodeOptions);
  // Errors surface through the promises of the commands; without a listener ioredis would print
  // them. The last one explains a failed connection better than ioredis's "Connection is closed".
  let lastError: unknown = null;
  redis.on('error', (err: unknown) => {
    lastError = err;
  });
  try {
    await waitReady(redis, options.connectTimeoutMs, true);
    connectedOnce = true;
  } catch (err) {
    if (redis.status !== 'end') redis.disconnect();
    if (redis instanceof Cluster) for (const node of redis.nodes()) node.disconnect();
    const cause = lastError ?? (err as Error).cause ?? err;
    throw new RedisUnreachableError(`cannot reach Redis at ${redactUrl(options.url)}: ${errorText(cause)}`, { cause });
  }
  return redis;
}

export async function closeRedis(redis: RedisClient): Promise<void> {
  try {
    if (redis.status === 'ready') await redis.quit();
  } catch {
    // Already gone.
  } finally {
    redis.disconnect();
  }
}


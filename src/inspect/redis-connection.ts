import { Redis } from 'ioredis';
import { redactUrl } from '../state/redis/redis-backend.js';

export interface InspectConnectOptions {
  readonly url: string;
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
export async function connectRedis(options: InspectConnectOptions): Promise<Redis> {
  let connectedOnce = false;
  const redis = new Redis(options.url, {
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
  });
  // Errors surface through the promises of the commands; without a listener ioredis would print
  // them. The last one explains a failed connection better than ioredis's "Connection is closed".
  let lastError: unknown = null;
  redis.on('error', (err: unknown) => {
    lastError = err;
  });
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      redis.connect(),
      new Promise((_, reject) => {
        timer = setTimeout(() => reject(new Error(`no connection within ${options.connectTimeoutMs} ms`)), options.connectTimeoutMs);
      }),
    ]);
    connectedOnce = true;
  } catch (err) {
    if (redis.status !== 'end') redis.disconnect();
    const cause = lastError ?? err;
    throw new RedisUnreachableError(`cannot reach Redis at ${redactUrl(options.url)}: ${describeError(cause)}`, { cause });
  } finally {
    clearTimeout(timer);
  }
  return redis;
}

export async function closeRedis(redis: Redis): Promise<void> {
  try {
    if (redis.status === 'ready') await redis.quit();
  } catch {
    // Already gone.
  } finally {
    redis.disconnect();
  }
}

function describeError(err: unknown): string {
  if (err instanceof AggregateError && err.errors.length > 0) return describeError(err.errors[0]);
  if (err instanceof Error) return err.message || err.name;
  return String(err);
}

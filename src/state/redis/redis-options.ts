/** Settings of the Redis backend, apart from the module that loads ioredis (start-up stays light without Redis). */
export interface RedisBackendOptions {
  readonly url: string;
  /** Seed nodes (host:port) of a Redis Cluster; null for a standalone Redis at `url`. */
  readonly cluster: readonly string[] | null;
  /** Prefix of every key and channel. */
  readonly prefix: string;
  /** A room's records expire this long after its last use. */
  readonly roomTtlMs: number;
  /** An instance whose heartbeat is older than this is dead and gets reaped. */
  readonly reapAfterMs: number;
  readonly connectTimeoutMs: number;
  readonly commandTimeoutMs: number;
  /** Bytes of room copies (parsed peer lists, as JSON) an instance keeps, at most. */
  readonly roomCopyBytes: number;
}

export const DEFAULT_REDIS_OPTIONS: Omit<RedisBackendOptions, 'url'> = Object.freeze({
  cluster: null,
  prefix: 'sleap:',
  roomTtlMs: 2 * 3_600_000,
  reapAfterMs: 15_000,
  connectTimeoutMs: 10_000,
  commandTimeoutMs: 2_000,
  roomCopyBytes: 32 * 1024 * 1024,
});

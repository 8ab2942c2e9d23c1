import type { CommandRunner } from './command-runner.js';
import type { KeySpace } from './key-space.js';
import type { RedisClient } from './redis-client.js';
import type { RedisBackendOptions } from './redis-options.js';
import type { RedisScripts } from './scripts.js';

/** What every part of the Redis backend works with: the command connection, keys, scripts and runner. */
export interface RedisCore {
  readonly cmd: RedisClient;
  readonly keys: KeySpace;
  readonly scripts: RedisScripts;
  readonly runner: CommandRunner;
  readonly options: RedisBackendOptions;
}

/** A room's records live this long after their last use, in whole seconds (EXPIRE's unit). */
export function roomTtlSeconds(options: RedisBackendOptions): number {
  return Math.max(1, Math.ceil(options.roomTtlMs / 1000));
}

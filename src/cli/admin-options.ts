import { checkRedisFlags } from './redis-flags.js';
import { Command, Option } from 'commander';
import { AdminError, HttpAdmin, RedisAdmin, type AdminTarget } from '../admin/admin-target.js';
import { DEFAULT_REDIS_OPTIONS } from '../state/redis/redis-options.js';
import { UsageError } from '../options/usage-error.js';
import { outputOptions } from './output-option.js';

export interface AdminFlags {
  redis?: string;
  prefix: string;
  url?: string;
  operatorToken?: string;
  output?: string;
  json?: boolean;
}

/** --redis/--prefix (straight to the shared Redis) or --url/--operator-token (through a server's admin endpoints). */
export function withAdminTarget(command: Command): Command {
  return command
    .addOption(new Option('--redis <url>', 'the Redis that serve --redis instances share').env('REDIS_URL'))
    .addOption(new Option('--prefix <prefix>', 'prefix of the Redis keys').env('REDIS_PREFIX').default(DEFAULT_REDIS_OPTIONS.prefix))
    .addOption(serverUrlOptions()[0]!)
    .addOption(serverUrlOptions()[1]!)
    .addOption(outputOptions()[0]!)
    .addOption(outputOptions()[1]!);
}

/**
 * `--url` (env SLEAP_SIGNAL_URL) and `--operator-token` (env OPERATOR_TOKEN): go through a running
 * server's operator endpoints. Where a command also takes `--redis`, `--url` wins when both are set.
 */
export function serverUrlOptions(): [Option, Option] {
  return [
    new Option('--url <url>', 'a server to go through instead of Redis (http://host:port, its admin port if it has one; wins over --redis)').env('SLEAP_SIGNAL_URL'),
    new Option('--operator-token <token>', 'the server\'s operator token (with --url)').env('OPERATOR_TOKEN'),
  ];
}

/** A --url as given, once it is an http(s):// (or ws(s)://) URL. */
export function checkServerUrl(url: string): string {
  if (!/^(https?|wss?):\/\//.test(url)) throw new UsageError(`--url must be http(s)://host:port, got "${url}"`);
  return url;
}

export async function openAdminTarget(flags: AdminFlags): Promise<AdminTarget> {
  if (flags.url !== undefined) return new HttpAdmin(checkServerUrl(flags.url), flags.operatorToken ?? null);
  if (flags.redis !== undefined) {
    checkRedisFlags(flags.redis);
    return RedisAdmin.open(flags.redis, flags.prefix);
  }
  throw new UsageError('say where: --redis URL (shared Redis) or --url http://host:port (a running server)');
}

/** Runs an admin action with its target opened and closed; AdminError exits with its code. */
export async function withTarget<T>(flags: AdminFlags, action: (target: AdminTarget) => Promise<T>): Promise<T> {
  const target = await openAdminTarget(flags);
  try {
    return await action(target);
  } catch (err) {
    if (err instanceof AdminError && err.exitCode === 2) throw new UsageError(err.message);
    throw err;
  } finally {
    await target.close();
  }
}

import { Cluster, Redis, type RedisOptions } from 'ioredis';
import { parseHostPort, type HostPort } from '../../net/host-port.js';
import { REGISTRATION_SCRIPTS } from './lua-sources.js';

/** A standalone Redis or a Redis Cluster: the backend uses what both offer. */
export type RedisClient = Redis | Cluster;

export interface ClientSettings {
  /** redis:// URL of a standalone server (ignored with `cluster`). */
  readonly url: string;
  /** Seed nodes (host:port) of a Redis Cluster, or null for a standalone server. */
  readonly cluster: readonly string[] | null;
  readonly connectTimeoutMs: number;
  readonly commandTimeoutMs: number;
}

/** Commands that leave at once rather than in ioredis' per-tick auto-pipeline (see createClients). */
const UNPIPELINED = [...REGISTRATION_SCRIPTS, 'publish', 'spublish'];

/**
 * The command and subscriber connections. Commands fail fast while disconnected (no offline
 * queue: the server answers SERVICE_UNAVAILABLE rather than queueing); reconnects go on forever.
 */
export function createClients(settings: ClientSettings): { cmd: RedisClient; sub: Redis | null } {
  const common: RedisOptions = {
    lazyConnect: true,
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
    connectTimeout: settings.connectTimeoutMs,
    commandTimeout: settings.commandTimeoutMs,
    retryStrategy: (times) => Math.min(100 * times, 1000),
  };
  if (settings.cluster === null) {
    return {
      // Commands issued in one tick leave in one write: a syscall per batch, not per command.
      // Registration scripts are sent on their own: in an auto-pipelined batch every reply waits for
      // the batch's last, and a ramp's replies (whole rooms at times) then outlive the young generation.
      // So are publishes: the bus batches a tick's envelopes per instance itself, and a pipeline
      // object per tick for one PUBLISH was most of ioredis' cost at low rates.
      cmd: new Redis(settings.url, {
        ...common,
        enableAutoPipelining: true,
        autoPipeliningIgnoredCommands: UNPIPELINED,
        connectionName: 'sleap-signal',
      }),
      sub: new Redis(settings.url, { ...common, connectionName: 'sleap-signal-sub', autoResubscribe: true }),
    };
  }
  const nodes = clusterNodes(settings.cluster);
  const clusterOptions = {
    lazyConnect: true,
    enableOfflineQueue: false,
    enableAutoPipelining: true,
    autoPipeliningIgnoredCommands: UNPIPELINED,
    maxRedirections: 16,
    retryDelayOnFailover: 200,
    retryDelayOnClusterDown: 200,
    clusterRetryStrategy: (times: number) => Math.min(100 * times, 1000),
    redisOptions: { ...common, lazyConnect: false },
  };
  // On a cluster the subscriber is a ShardSubscriber, made once the cluster is connected.
  return {
    cmd: new Cluster(nodes, { ...clusterOptions, redisOptions: { ...clusterOptions.redisOptions, connectionName: 'sleap-signal' } }),
    sub: null,
  };
}

/** Seed nodes of a Redis Cluster, each `host:port`. */
export function clusterNodes(nodes: readonly string[]): HostPort[] {
  return nodes.map((node) => {
    const parsed = parseHostPort(node);
    if (parsed === null) throw new Error(`cluster node must be host:port, got "${node}"`);
    return parsed;
  });
}

/** Major version of the Redis server behind a client (from INFO server). */
export async function serverMajorVersion(client: RedisClient): Promise<number> {
  const info = client instanceof Cluster ? await client.nodes('master')[0]!.info('server') : await client.info('server');
  const m = /redis_version:(\d+)/.exec(info);
  return m ? Number(m[1]) : 0;
}

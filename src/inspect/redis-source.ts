import type { RedisClient } from '../state/redis/redis-client.js';
import { RedisBackend } from '../state/redis/redis-backend.js';
import { deleteRoomWithPeers, kickPeer, type KickResult, type RoomDeleteResult } from '../admin/peer-removal.js';
import { KeySpace } from '../state/redis/key-space.js';
import { compileFilters } from '../protocol/filters.js';
import { UsageError } from '../options/usage-error.js';
import { ClusterReader } from '../admin/cluster-reader.js';
import { NotFoundError } from './errors.js';
import { peerDetailJson, roomJson, roomsJson, serversJson, statsJson, type RoomFilter } from '../admin/json-output.js';
import { closeRedis, connectRedis, RedisUnreachableError } from './redis-connection.js';
import type { InspectSource } from './inspect-source.js';
import type { ListRoomsOptions } from '../admin/views.js';

export interface RedisSourceOptions {
  /** redis:// URL, or `redis-cluster://` and the seed nodes in `cluster`. */
  readonly url: string;
  readonly cluster?: readonly string[];
  readonly prefix: string;
  readonly connectTimeoutMs: number;
  /** Reconnect after a lost connection (watching). */
  readonly reconnect: boolean;
}

/** The operator commands straight on the Redis that `serve --redis` instances share. */
export class RedisSource implements InspectSource {
  private readonly reader: ClusterReader;

  private constructor(
    private readonly redis: RedisClient,
    private readonly prefix: string,
    /** The state backend on the same connection, for kick and room delete: the servers' own admin path. */
    private readonly state: RedisBackend,
  ) {
    this.reader = new ClusterReader(redis, new KeySpace(prefix));
  }

  static async open(options: RedisSourceOptions): Promise<RedisSource> {
    const redis = await connectRedis({ url: options.url, cluster: options.cluster, connectTimeoutMs: options.connectTimeoutMs, reconnect: options.reconnect });
    try {
      const state = new RedisBackend(
        { url: options.url, cluster: options.cluster ?? null, prefix: options.prefix, connectTimeoutMs: options.connectTimeoutMs },
        redis,
      );
      // Learns how the instances listen (sharded channels on Redis Cluster 7+).
      await state.open();
      return new RedisSource(redis, options.prefix, state);
    } catch (err) {
      await closeRedis(redis);
      throw failed(err);
    }
  }

  rooms(options: ListRoomsOptions) {
    return this.request(async () => {
      const view = await this.reader.listRooms(options);
      const now = Date.now();
      // Nothing at all under this prefix often means the wrong --prefix: say so when no instance is there either.
      const emptyPrefix = view.rooms.length === 0 && (await this.reader.listServers()).length === 0 ? this.prefix : null;
      return { view, now, document: roomsJson(view, now), emptyPrefix };
    });
  }

  room(roomId: string, filter: RoomFilter) {
    const compiled = compileFilters({ role: filter.role, tags: [...filter.tags] });
    if (!compiled.ok) throw new UsageError(compiled.error.message);
    return this.request(async () => {
      const room = await this.reader.room(roomId);
      if (room === null) throw new NotFoundError(`room "${roomId}" not found`);
      const peers = room.peerList.filter(compiled.match);
      const now = Date.now();
      return { view: { room, peers, filter }, now, document: roomJson(room, peers, filter, now) };
    });
  }

  peer(peerId: string) {
    return this.request(async () => {
      const view = await this.reader.peer(peerId);
      if (view === null) throw new NotFoundError(`peer "${peerId}" not found`);
      const now = Date.now();
      return { view, now, document: peerDetailJson(view, now) };
    });
  }

  servers() {
    return this.request(async () => {
      const view = await this.reader.listServers();
      const now = Date.now();
      return { view, now, document: serversJson(view, now) };
    });
  }

  stats() {
    return this.request(async () => {
      const view = await this.reader.stats();
      const now = Date.now();
      return { view, now, document: statsJson(view, now) };
    });
  }

  kick(peerId: string, reason: string): Promise<KickResult> {
    return this.request(async () => {
      const result = await kickPeer(this.state, peerId, reason);
      if (result === null) throw new NotFoundError(`peer "${peerId}" not found`);
      return result;
    });
  }

  deleteRoom(roomId: string, reason: string): Promise<RoomDeleteResult> {
    return this.request(async () => {
      const result = await deleteRoomWithPeers(this.state, roomId, reason);
      if (result === null) throw new NotFoundError(`room "${roomId}" not found`);
      return result;
    });
  }

  notReady(): string | null {
    // Between frames the connection may have dropped; ioredis reconnects every second meanwhile.
    return this.redis.status === 'ready' ? null : 'lost the connection to Redis; reconnecting';
  }

  close(): Promise<void> {
    return closeRedis(this.redis);
  }

  private async request<T>(work: () => Promise<T>): Promise<T> {
    try {
      return await work();
    } catch (err) {
      throw failed(err);
    }
  }
}

/** Errors of Redis itself say so; a missing room or peer, bad usage and an unreachable Redis are told as they are. */
function failed(err: unknown): Error {
  if (err instanceof NotFoundError || err instanceof UsageError || err instanceof RedisUnreachableError) return err;
  return new Error(`Redis request failed: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
}

import type { ChainableCommander } from 'ioredis';
import type { RedisClient } from '../state/redis/redis-client.js';
import { pipelineOf } from './spread-pipeline.js';
import { isPlainObject, type JsonValue } from '../protocol/json-value.js';
import type { KeySpace } from '../state/redis/key-space.js';
import { discoveryOrder, serverOfConnection, type PeerRecord } from '../state/state-backend.js';
import {
  clusterStats,
  liveness,
  peerView,
  roomSummary,
  serverOrder,
  type ClusterStats,
  type ClusterView,
  type ListRoomsOptions,
  type PeerDetail,
  type RoomDetail,
  type RoomListing,
  type RoomSummary,
  type ServerView,
} from './views.js';

export { liveness };
export type { ClusterStats, InstanceStatus, ListRoomsOptions, PeerDetail, PeerView, RoomDetail, RoomListing, RoomSummary, ServerView } from './views.js';

/**
 * Reads what `serve --redis` keeps in Redis, for the operator commands (and for a server's
 * operator endpoints, on the server's own connection). Only the indexes are
 * walked (the rooms ZSET, the servers ZSET), never KEYS or SCAN; every per-room or per-server
 * read is pipelined, so the number of round trips does not grow with the number of rooms.
 */

/** Rooms read per pipeline (three commands each, one of them all the room's records). */
const ROOM_CHUNK = 500;
/** Rooms counted per pipeline (one HLEN each). */
const SIZE_CHUNK = 2_000;
/** Pipelines sent before waiting for their replies: Redis answers one while another is decoded. */
const CHUNKS_IN_FLIGHT = 4;

export class ClusterReader implements ClusterView {
  constructor(
    private readonly redis: RedisClient,
    private readonly keys: KeySpace,
    private readonly now: () => number = Date.now,
  ) {}

  async listRooms(options: ListRoomsOptions = {}): Promise<RoomListing> {
    const limit = options.limit ?? Number.POSITIVE_INFINITY;
    const index = pairs(await this.redis.zrevrange(this.keys.rooms, 0, -1, 'WITHSCORES'));
    const rooms: RoomSummary[] = [];
    let truncated = false;
    // Pipelines of ROOM_CHUNK rooms, CHUNKS_IN_FLIGHT at a time: the round trips grow with
    // rooms / 2,000, and no reply is so large that the client holds it long.
    const chunks: [string, string][][] = [];
    for (let start = 0; start < index.length; start += ROOM_CHUNK) chunks.push(index.slice(start, start + ROOM_CHUNK));
    for (let c = 0; c < chunks.length && !truncated; c += CHUNKS_IN_FLIGHT) {
      const batch = chunks.slice(c, c + CHUNKS_IN_FLIGHT);
      const replies = await Promise.all(batch.map((chunk) => this.readRoomChunk(chunk, options.includeEmpty === true)));
      for (let b = 0; b < batch.length && !truncated; b++) {
        const chunk = batch[b]!;
        const reply = replies[b]!;
        const per = options.includeEmpty ? 4 : 3;
        for (let i = 0; i < chunk.length; i++) {
          const [roomId, score] = chunk[i]!;
          const records = (reply[i * per] as string[]).map(parseRecord).filter((r): r is PeerRecord => r !== null);
          const meta = reply[i * per + 1] as (string | null)[];
          const pttl = reply[i * per + 2] as number;
          // Without peers a room is listed only with --all, while its records (or, for a created
          // room, its token) have not expired.
          if (records.length === 0 && (!options.includeEmpty || (pttl === -2 && reply[i * per + 3] === 0))) continue;
          if (rooms.length >= limit) {
            truncated = true;
            break;
          }
          rooms.push(summary(roomId, records, meta, pttl, Number(score)));
        }
      }
    }
    return { indexed: index.length, rooms, truncated };
  }

  private readRoomChunk(chunk: readonly [string, string][], withToken: boolean): Promise<unknown[]> {
    const pipeline = pipelineOf(this.redis);
    for (const [roomId] of chunk) {
      pipeline.hvals(this.keys.roomPeers(roomId));
      pipeline.hmget(this.keys.roomMeta(roomId), 'created_at', 'last_used', 'admin');
      pipeline.pttl(this.keys.roomMeta(roomId));
      if (withToken) pipeline.exists(this.keys.roomToken(roomId));
    }
    return exec(pipeline);
  }

  /** One room and its peers, or null when the room has neither peers nor records (nor a token, for a created room). */
  async room(roomId: string): Promise<RoomDetail | null> {
    const pipeline = pipelineOf(this.redis);
    pipeline.hgetall(this.keys.roomPeers(roomId));
    pipeline.hgetall(this.keys.roomRoutes(roomId));
    pipeline.hmget(this.keys.roomMeta(roomId), 'created_at', 'last_used', 'admin');
    pipeline.pttl(this.keys.roomMeta(roomId));
    pipeline.zscore(this.keys.rooms, roomId);
    // Only the times of a created room's token record: never its hash.
    pipeline.hmget(this.keys.roomToken(roomId), 'created_at', 'expires_at');
    const [rawPeers, routes, meta, pttl, score, token] = (await exec(pipeline)) as [
      Record<string, string>,
      Record<string, string>,
      (string | null)[],
      number,
      string | null,
      (string | null)[],
    ];
    const records = Object.values(rawPeers)
      .map(parseRecord)
      .filter((r): r is PeerRecord => r !== null)
      .sort(discoveryOrder);
    const createdRoom = token[0] || token[1] ? { createdAt: num(token[0]), expiresAt: num(token[1]) } : null;
    if (records.length === 0 && pttl === -2 && createdRoom === null) return null;
    const base = summary(roomId, records, meta, pttl, score === null ? Number.NaN : Number(score));
    const serverIds = new Set(records.map((r) => serverOf(r, routes[r.peerId])));
    const servers = await this.servers([...serverIds]);
    const peerList = records.map((r) => peerView(r, routes[r.peerId], base.admin, servers.get(serverOf(r, routes[r.peerId]))!.status));
    return { ...base, peerList, createdRoom };
  }

  /** Everything known about one peer, or null when no room holds it. */
  async peer(peerId: string): Promise<PeerDetail | null> {
    const claim = await this.redis.hgetall(this.keys.peer(peerId));
    const roomId = claim.room;
    if (!roomId) return null;
    const guess = claim.conn ? serverOfConnection(claim.conn) : '';
    const pipeline = pipelineOf(this.redis);
    pipeline.hget(this.keys.roomPeers(roomId), peerId);
    pipeline.hget(this.keys.roomRoutes(roomId), peerId);
    pipeline.hget(this.keys.roomMeta(roomId), 'admin');
    this.queueServer(pipeline, guess);
    const replies = await exec(pipeline);
    const record = parseRecord(replies[0] as string | null);
    if (record === null) return null;
    const route = (replies[1] as string | null) ?? undefined;
    const admin = replies[2] as string | null;
    const serverId = serverOf(record, route);
    const instance = serverId === guess ? this.serverFromReplies(guess, replies.slice(3)) : (await this.servers([serverId])).get(serverId)!;
    return { ...peerView(record, route, admin, instance.status), instance };
  }

  /** Every instance in the index: live ones first, then late, then dead; by id within each. */
  async listServers(): Promise<ServerView[]> {
    const ids = await this.redis.zrange(this.keys.servers, 0, -1);
    return [...(await this.servers(ids)).values()].sort(serverOrder);
  }

  async stats(): Promise<ClusterStats> {
    const [servers, index] = await Promise.all([this.listServers(), this.redis.zrevrange(this.keys.rooms, 0, -1)]);
    const sizes: [string, number][] = [];
    const chunks: string[][] = [];
    for (let start = 0; start < index.length; start += SIZE_CHUNK) chunks.push(index.slice(start, start + SIZE_CHUNK));
    for (let c = 0; c < chunks.length; c += CHUNKS_IN_FLIGHT) {
      const batch = chunks.slice(c, c + CHUNKS_IN_FLIGHT);
      const replies = await Promise.all(
        batch.map((chunk) => {
          const pipeline = pipelineOf(this.redis);
          for (const roomId of chunk) pipeline.hlen(this.keys.roomPeers(roomId));
          return exec(pipeline) as Promise<number[]>;
        }),
      );
      batch.forEach((chunk, b) => replies[b]!.forEach((n, i) => sizes.push([chunk[i]!, n])));
    }
    return clusterStats(servers, sizes);
  }

  /** Views of the given instances, in one pipeline. */
  async servers(ids: readonly string[]): Promise<Map<string, ServerView>> {
    const out = new Map<string, ServerView>();
    if (ids.length === 0) return out;
    const pipeline = pipelineOf(this.redis);
    for (const id of ids) this.queueServer(pipeline, id);
    const replies = await exec(pipeline);
    ids.forEach((id, i) => out.set(id, this.serverFromReplies(id, replies.slice(i * 4, i * 4 + 4))));
    return out;
  }

  private queueServer(pipeline: ChainableCommander, serverId: string): void {
    pipeline.hgetall(this.keys.server(serverId));
    pipeline.pttl(this.keys.server(serverId));
    pipeline.zscore(this.keys.servers, serverId);
    pipeline.scard(this.keys.serverPeers(serverId));
  }

  private serverFromReplies(serverId: string, replies: unknown[]): ServerView {
    const hash = replies[0] as Record<string, string>;
    const pttl = replies[1] as number;
    const score = replies[2] as string | null;
    const heldPeers = Number(replies[3] ?? 0);
    const alive = Object.keys(hash).length > 0;
    const heartbeatAt = num(hash.heartbeat_at) ?? num(score);
    return {
      serverId,
      status: alive ? liveness(heartbeatAt, pttl, this.now()) : 'dead',
      host: hash.host ?? null,
      port: num(hash.port),
      version: hash.version ?? null,
      startedAt: num(hash.started_at),
      heartbeatAt,
      connections: num(hash.connections),
      peers: num(hash.peers),
      heldPeers,
      relayedTotal: num(hash.relayed_total),
      relayRate: num(hash.relay_rate),
    };
  }
}

/** A room's summary from its records, its meta fields (created_at, last_used, admin), its TTL and its index score. */
function summary(roomId: string, records: readonly PeerRecord[], meta: (string | null)[], pttl: number, score: number): RoomSummary {
  const [createdAt, lastUsed, admin] = meta;
  return roomSummary({
    roomId,
    records,
    admin: admin || null,
    createdAt: num(createdAt),
    lastUsed: num(lastUsed) ?? (Number.isFinite(score) ? score : null),
    expiresInMs: pttl >= 0 ? pttl : null,
  });
}

function serverOf(record: PeerRecord, route: string | undefined): string {
  return (route && serverOfConnection(route)) || record.serverId;
}

function parseRecord(raw: string | null | undefined): PeerRecord | null {
  if (!raw) return null;
  try {
    const value = JSON.parse(raw) as JsonValue;
    if (!isPlainObject(value) || typeof value.peerId !== 'string' || typeof value.roomId !== 'string') return null;
    return { ...(value as unknown as PeerRecord), role: typeof value.role === 'string' ? value.role : '' };
  } catch {
    return null;
  }
}

function num(value: string | null | undefined): number | null {
  if (value === null || value === undefined || value === '') return null;
  const n = Number(value);
  return Number.isFinite(n) ? n : null;
}

function pairs(flat: string[]): [string, string][] {
  const out: [string, string][] = [];
  for (let i = 0; i + 1 < flat.length; i += 2) out.push([flat[i]!, flat[i + 1]!]);
  return out;
}

/** Runs a pipeline; the first failed command fails the whole read. */
export async function exec(pipeline: ChainableCommander): Promise<unknown[]> {
  const replies = (await pipeline.exec()) ?? [];
  return replies.map(([err, value]) => {
    if (err) throw err;
    return value;
  });
}

import { isPlainObject, type JsonObject } from '../protocol/json-value.js';
import { serverOfConnection, type PeerRecord } from '../state/state-backend.js';

/**
 * What the operator commands show (rooms, a room, a peer, instances, a summary), whoever reads it:
 * the CLI straight from Redis (ClusterReader), or a server for its operator endpoints (from Redis
 * too, or from its memory backend). Plain data and pure functions: no Redis, no CLI.
 */

/** `live`: heartbeat on time. `late`: two heartbeats missed, not yet reapable. `dead`: heartbeat lapsed, waiting to be reaped. */
export type InstanceStatus = 'live' | 'late' | 'dead';

export interface RoomSummary {
  readonly roomId: string;
  readonly peers: number;
  /** Peers by role, largest group first. */
  readonly roles: Readonly<Record<string, number>>;
  readonly admin: string | null;
  /** Unix ms; null when the room's meta record is gone. */
  readonly createdAt: number | null;
  /** Unix ms of the last join or leave (the index score when the meta record is gone). */
  readonly lastUsed: number | null;
  /** Time left before the room's records expire, null when they do not expire. */
  readonly expiresInMs: number | null;
}

export interface RoomListing {
  /** Rooms in the index (some may be empty or expired). */
  readonly indexed: number;
  /** Rooms listed, most recently used first. */
  readonly rooms: readonly RoomSummary[];
  /** Whether `limit` cut the list short. */
  readonly truncated: boolean;
}

export interface PeerView {
  readonly peerId: string;
  readonly roomId: string;
  readonly role: string;
  readonly metadata: JsonObject;
  readonly tags: readonly string[];
  readonly properties: Readonly<JsonObject>;
  /** Unix seconds, with a fraction. */
  readonly connectedAt: number;
  /** The instance holding the connection (from the room's routing table). */
  readonly serverId: string;
  readonly connectionId: string;
  readonly instanceStatus: InstanceStatus;
  readonly presence: boolean;
  readonly admin: boolean;
  readonly subject: string | null;
}

/** Times (Unix ms) of the record of a room created ahead of use (`--rooms token`); never its token. */
export interface CreatedRoomTimes {
  readonly createdAt: number | null;
  readonly expiresAt: number | null;
}

export interface RoomDetail extends RoomSummary {
  /** Every peer of the room, in discovery order. */
  readonly peerList: readonly PeerView[];
  /** Set when the room was created ahead of use (`--rooms token`). */
  readonly createdRoom: CreatedRoomTimes | null;
}

export interface PeerDetail extends PeerView {
  readonly instance: ServerView;
}

export interface ServerView {
  readonly serverId: string;
  readonly status: InstanceStatus;
  readonly host: string | null;
  readonly port: number | null;
  readonly version: string | null;
  /** Unix ms. */
  readonly startedAt: number | null;
  /** Unix ms of the last heartbeat. */
  readonly heartbeatAt: number | null;
  readonly connections: number | null;
  /** Peers registered on it, as its last heartbeat reported. */
  readonly peers: number | null;
  /** Peer ids in its set in Redis (what the reaper would remove). */
  readonly heldPeers: number;
  readonly relayedTotal: number | null;
  /** Messages relayed per second over its last heartbeat interval. */
  readonly relayRate: number | null;
}

export interface ClusterStats {
  readonly instances: { readonly live: number; readonly late: number; readonly dead: number };
  /** Open connections on live and late instances. */
  readonly connections: number;
  /** Rooms with at least one peer. */
  readonly rooms: number;
  /** Registered peers, over all rooms. */
  readonly peers: number;
  readonly largestRoom: { readonly roomId: string; readonly peers: number } | null;
  /** Messages relayed per second, summed over live and late instances. */
  readonly relayRate: number;
  /** Messages relayed since they started, summed over live and late instances. */
  readonly relayedTotal: number;
}

export interface ListRoomsOptions {
  /** At most this many rooms (the most recently used). */
  readonly limit?: number;
  /** Also list rooms with no peer whose records have not expired yet. */
  readonly includeEmpty?: boolean;
}

/** The reads behind the operator commands and the server's operator endpoints. */
export interface ClusterView {
  listRooms(options?: ListRoomsOptions): Promise<RoomListing>;
  /** One room and its peers, or null when it has neither peers nor records. */
  room(roomId: string): Promise<RoomDetail | null>;
  /** Everything known about one peer, or null when no room holds it. */
  peer(peerId: string): Promise<PeerDetail | null>;
  /** Every instance: live ones first, then late, then dead; by id within each. */
  listServers(): Promise<ServerView[]>;
  stats(): Promise<ClusterStats>;
}

/** What a room summary is made of, as a store keeps it. */
export interface RoomFacts {
  readonly roomId: string;
  readonly records: readonly PeerRecord[];
  readonly admin: string | null;
  readonly createdAt: number | null;
  readonly lastUsed: number | null;
  readonly expiresInMs: number | null;
}

export function roomSummary(facts: RoomFacts): RoomSummary {
  const roles = new Map<string, number>();
  for (const r of facts.records) roles.set(r.role, (roles.get(r.role) ?? 0) + 1);
  const sorted = [...roles].sort((a, b) => b[1] - a[1] || byCodeUnit(a[0], b[0]));
  return {
    roomId: facts.roomId,
    peers: facts.records.length,
    roles: Object.fromEntries(sorted),
    admin: facts.admin,
    createdAt: facts.createdAt,
    lastUsed: facts.lastUsed,
    expiresInMs: facts.expiresInMs,
  };
}

/** A peer as the views show it; `route` is its connection in the room's routing table, where one is kept. */
export function peerView(record: PeerRecord, route: string | undefined, admin: string | null, status: InstanceStatus): PeerView {
  const metadata: JsonObject = isPlainObject(record.metadata) ? record.metadata : {};
  const tags = Array.isArray(metadata.tags) ? metadata.tags.filter((t): t is string => typeof t === 'string') : [];
  const properties: JsonObject = isPlainObject(metadata.properties) ? metadata.properties : {};
  const connectionId = route ?? record.connectionId;
  return {
    peerId: record.peerId,
    roomId: record.roomId,
    role: record.role,
    metadata,
    tags,
    properties,
    connectedAt: record.connectedAt,
    serverId: serverOfConnection(connectionId) || record.serverId,
    connectionId,
    instanceStatus: status,
    presence: record.presence === true,
    admin: admin !== null && admin === record.peerId,
    subject: record.subject ?? null,
  };
}

/**
 * An instance beats every reapAfter/3 and sets its key to expire after reapAfter; from the
 * heartbeat's age and the key's time to live the reapAfter it runs with is known. Two missed
 * beats make it `late`; the key expiring makes it `dead` (handled by the caller).
 */
export function liveness(heartbeatAt: number | null, pttl: number, now: number): InstanceStatus {
  if (heartbeatAt === null) return 'live';
  if (pttl <= 0) return pttl === -2 ? 'dead' : 'live';
  const age = Math.max(0, now - heartbeatAt);
  const interval = Math.max(50, (age + pttl) / 3);
  return age > 2 * interval + 500 ? 'late' : 'live';
}

/** Live instances first, then late, then dead; by id within each. */
export function serverOrder(a: ServerView, b: ServerView): number {
  const rank: Record<InstanceStatus, number> = { live: 0, late: 1, dead: 2 };
  return rank[a.status] - rank[b.status] || byCodeUnit(a.serverId, b.serverId);
}

/**
 * The cluster summary from the instances and the rooms' sizes. Rooms come most recently used
 * first: of equally large rooms, the first is the largest.
 */
export function clusterStats(servers: readonly ServerView[], roomSizes: Iterable<readonly [roomId: string, peers: number]>): ClusterStats {
  let rooms = 0;
  let peers = 0;
  let largestRoom: ClusterStats['largestRoom'] = null;
  for (const [roomId, n] of roomSizes) {
    if (n <= 0) continue;
    rooms++;
    peers += n;
    if (largestRoom === null || n > largestRoom.peers) largestRoom = { roomId, peers: n };
  }
  const instances = { live: 0, late: 0, dead: 0 };
  let connections = 0;
  let relayRate = 0;
  let relayedTotal = 0;
  for (const s of servers) {
    instances[s.status]++;
    if (s.status === 'dead') continue;
    connections += s.connections ?? 0;
    relayRate += s.relayRate ?? 0;
    relayedTotal += s.relayedTotal ?? 0;
  }
  return { instances, connections, rooms, peers, largestRoom, relayRate: Math.round(relayRate * 10) / 10, relayedTotal };
}

/** Most recently used first, then by id. */
export function recentFirst(a: RoomSummary, b: RoomSummary): number {
  return (b.lastUsed ?? -Infinity) - (a.lastUsed ?? -Infinity) || byCodeUnit(a.roomId, b.roomId);
}

function byCodeUnit(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

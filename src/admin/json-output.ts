import type { ClusterStats, PeerDetail, PeerView, RoomDetail, RoomListing, RoomSummary, ServerView } from './views.js';
import { isoTime } from './times.js';
import { documentHeader } from '../json-document.js';
import type { KickResult, RoomDeleteResult } from './peer-removal.js';

/**
 * The `--json` documents. Their fields are a stable interface for scripts: fields may be added
 * (with `version` unchanged), never renamed or removed without raising `version`. Times are ISO
 * 8601 UTC strings, durations whole seconds, absent values null. docs/json-output.md lists them.
 */
export const JSON_VERSION = 1;

export interface RoomFilter {
  readonly role: string | null;
  readonly tags: readonly string[];
}

const seconds = (ms: number | null): number | null => (ms === null || !Number.isFinite(ms) ? null : Math.max(0, Math.floor(ms / 1000)));

function header(now: number) {
  // `version` is the name these documents first had; `schema_version` is the one every document shares.
  return { version: JSON_VERSION, ...documentHeader(now) };
}

export function roomSummaryJson(r: RoomSummary, now: number) {
  return {
    room_id: r.roomId,
    peers: r.peers,
    roles: { ...r.roles },
    admin: r.admin,
    created_at: isoTime(r.createdAt),
    last_used: isoTime(r.lastUsed),
    age_seconds: r.createdAt === null ? null : seconds(now - r.createdAt),
    expires_in_seconds: r.expiresInMs === null ? null : Math.ceil(r.expiresInMs / 1000),
  };
}

export function roomsJson(listing: RoomListing, now: number) {
  return {
    ...header(now),
    indexed: listing.indexed,
    count: listing.rooms.length,
    truncated: listing.truncated,
    rooms: listing.rooms.map((r) => roomSummaryJson(r, now)),
  };
}

export function peerJson(p: PeerView, now: number) {
  return {
    peer_id: p.peerId,
    room_id: p.roomId,
    role: p.role,
    tags: [...p.tags],
    properties: { ...p.properties },
    metadata: p.metadata,
    server_id: p.serverId,
    server_status: p.instanceStatus,
    connection_id: p.connectionId,
    connected_at: isoTime(p.connectedAt * 1000),
    connected_seconds: seconds(now - p.connectedAt * 1000),
    presence: p.presence,
    admin: p.admin,
    subject: p.subject,
  };
}

export function roomJson(room: RoomDetail, peers: readonly PeerView[], filter: RoomFilter, now: number) {
  return {
    ...header(now),
    ...roomSummaryJson(room, now),
    created_room:
      room.createdRoom === null ? null : { created_at: isoTime(room.createdRoom.createdAt), expires_at: isoTime(room.createdRoom.expiresAt) },
    filters: { role: filter.role, tags: [...filter.tags] },
    count: peers.length,
    peer_list: peers.map((p) => peerJson(p, now)),
  };
}

export function serverJson(s: ServerView, now: number) {
  return {
    server_id: s.serverId,
    status: s.status,
    host: s.host,
    port: s.port,
    version: s.version,
    started_at: isoTime(s.startedAt),
    uptime_seconds: s.startedAt === null || s.status === 'dead' ? null : seconds(now - s.startedAt),
    heartbeat_at: isoTime(s.heartbeatAt),
    heartbeat_age_seconds: s.heartbeatAt === null ? null : seconds(now - s.heartbeatAt),
    connections: s.connections,
    peers: s.peers,
    held_peers: s.heldPeers,
    relayed_total: s.relayedTotal,
    relay_rate: s.relayRate,
  };
}

export function peerDetailJson(p: PeerDetail, now: number) {
  return { ...header(now), ...peerJson(p, now), server: serverJson(p.instance, now) };
}

export function serversJson(servers: readonly ServerView[], now: number) {
  const count = (status: ServerView['status']) => servers.filter((s) => s.status === status).length;
  return {
    ...header(now),
    count: servers.length,
    live: count('live'),
    late: count('late'),
    dead: count('dead'),
    servers: servers.map((s) => serverJson(s, now)),
  };
}

export function statsJson(stats: ClusterStats, now: number) {
  return {
    ...header(now),
    instances: { ...stats.instances, total: stats.instances.live + stats.instances.late + stats.instances.dead },
    connections: stats.connections,
    rooms: stats.rooms,
    peers: stats.peers,
    largest_room: stats.largestRoom === null ? null : { room_id: stats.largestRoom.roomId, peers: stats.largestRoom.peers },
    relay_rate: stats.relayRate,
    relayed_total: stats.relayedTotal,
  };
}

function kickedPeerJson(k: KickResult) {
  return { peer_id: k.peerId, server_id: k.serverId, connection_id: k.connectionId, instance_notified: k.instanceNotified };
}

export function kickJson(k: KickResult, now: number) {
  return {
    ...header(now),
    deleted: k.peerId,
    room_id: k.roomId,
    server_id: k.serverId,
    connection_id: k.connectionId,
    reason: k.reason,
    instance_notified: k.instanceNotified,
  };
}

export function roomDeleteJson(r: RoomDeleteResult, now: number) {
  return {
    ...header(now),
    room_id: r.roomId,
    deleted_peers: r.peers.map((p) => p.peerId),
    room_removed: r.roomRemoved,
    peers: r.peers.map(kickedPeerJson),
  };
}

/** Pretty for a person, one line per document when watching (NDJSON). */
export function renderJson(doc: unknown, compact = false): string {
  return `${compact ? JSON.stringify(doc) : JSON.stringify(doc, null, 2)}\n`;
}

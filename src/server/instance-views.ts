import type { ClusterRooms, PeerRecord, PeerRegistry, RoomEntry } from '../state/state-backend.js';
import {
  clusterStats,
  peerView,
  recentFirst,
  roomSummary,
  type ClusterStats,
  type ClusterView,
  type ListRoomsOptions,
  type PeerDetail,
  type PeerView,
  type RoomDetail,
  type RoomListing,
  type RoomSummary,
  type ServerView,
} from '../admin/views.js';

/** This instance as its views show it. */
export interface InstanceSnapshot {
  readonly serverId: string;
  readonly host: string;
  readonly port: number;
  readonly version: string;
  /** Unix ms. */
  readonly startedAt: number;
  readonly connections: number;
  readonly peers: number;
  /** Messages relayed since it started. */
  readonly relayed: number;
}

/**
 * The operator views of a server without Redis: the rooms of its state backend, and this one
 * instance. There is no heartbeat (its time is null, the instance is live while it answers), and a
 * room ends with its last peer (its records do not expire); a created room nobody joined yet
 * expires with its record.
 */
export class InstanceViews implements ClusterView {
  private readonly rate = new RelayRate();

  constructor(
    private readonly state: ClusterRooms & Pick<PeerRegistry, 'getPeer'>,
    private readonly self: () => InstanceSnapshot,
  ) {}

  async listRooms(options: ListRoomsOptions = {}): Promise<RoomListing> {
    const entries = await this.state.listRooms();
    const now = Date.now();
    const limit = options.limit ?? Number.POSITIVE_INFINITY;
    const listed = entries
      .filter((e) => e.peers.length > 0 || options.includeEmpty === true)
      .map((e) => summaryOf(e, now))
      .sort(recentFirst);
    return { indexed: entries.length, rooms: listed.slice(0, limit), truncated: listed.length > limit };
  }

  // One room, one peer: a walk over the rooms in this process's memory, as cheap as the listing.
  async room(roomId: string): Promise<RoomDetail | null> {
    const entry = (await this.state.listRooms()).find((e) => e.roomId === roomId);
    if (entry === undefined) return null;
    return { ...summaryOf(entry, Date.now()), peerList: entry.peers.map((r) => this.peerOf(r, entry.admin)), createdRoom: entry.createdRoom };
  }

  async peer(peerId: string): Promise<PeerDetail | null> {
    const record = await this.state.getPeer(peerId);
    if (record === null) return null;
    const entry = (await this.state.listRooms()).find((e) => e.roomId === record.roomId);
    return { ...this.peerOf(record, entry?.admin ?? null), instance: this.server(record.serverId) };
  }

  async listServers(): Promise<ServerView[]> {
    return [this.selfView()];
  }

  async stats(): Promise<ClusterStats> {
    const rooms = (await this.state.listRooms()).map((e) => summaryOf(e, Date.now())).sort(recentFirst);
    return clusterStats([this.selfView()], rooms.map((r) => [r.roomId, r.peers] as const));
  }

  private peerOf(record: PeerRecord, admin: string | null): PeerView {
    return peerView(record, undefined, admin, 'live');
  }

  /** Another instance shows only where several servers share one memory store (tests): its id. */
  private server(serverId: string): ServerView {
    const self = this.selfView();
    if (serverId === self.serverId) return self;
    const unknown = { host: null, port: null, version: null, startedAt: null, heartbeatAt: null, connections: null, peers: null };
    return { serverId, status: 'live', ...unknown, heldPeers: 0, relayedTotal: null, relayRate: null };
  }

  private selfView(): ServerView {
    const s = this.self();
    const now = Date.now();
    return {
      serverId: s.serverId,
      status: 'live',
      host: s.host,
      port: s.port,
      version: s.version,
      startedAt: s.startedAt,
      heartbeatAt: null,
      connections: s.connections,
      peers: s.peers,
      heldPeers: s.peers,
      relayedTotal: s.relayed,
      relayRate: this.rate.sample(s.relayed, now, s.startedAt),
    };
  }
}

function summaryOf(entry: RoomEntry, now: number): RoomSummary {
  // A room with peers lasts while they stay; a created room nobody is in, until its record expires.
  const expiresInMs = entry.peers.length === 0 && entry.createdRoom !== null ? Math.max(0, entry.createdRoom.expiresAt - now) : null;
  return roomSummary({ roomId: entry.roomId, records: entry.peers, admin: entry.admin, createdAt: entry.createdAt, lastUsed: entry.lastUsed, expiresInMs });
}

/**
 * Messages relayed per second, as a heartbeat would report it: over the time since the previous
 * sample, taken when a read comes at least a second after it (the first one: since the start).
 */
class RelayRate {
  private last: { at: number; relayed: number } | null = null;
  private rate = 0;

  sample(relayed: number, now: number, startedAt: number): number {
    const last = this.last ?? { at: startedAt, relayed: 0 };
    if (now - last.at >= 1000) {
      this.rate = Math.round(((relayed - last.relayed) * 10_000) / (now - last.at)) / 10;
      this.last = { at: now, relayed };
    }
    return this.rate;
  }
}

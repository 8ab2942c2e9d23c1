import {
  DEFAULT_OWNERSHIP_TTL_MS,
  discoveryOrder,
  type BusSink,
  type ControlMessage,
  type InstanceInfo,
  type PeerRecord,
  type RegisterOutcome,
  type RegisterRequest,
  type RegistrationRef,
  type RoomCensus,
  type RoomEntry,
  type ApiKeyRecord,
  type RoomRecord,
  type RelayOrigin,
  type RouteResult,
  serverOfConnection,
  type StateBackend,
} from '../state-backend.js';
import { keyGone, MemoryStore, roomExpired } from './memory-store.js';
import { requireWholeMs } from '../record-times.js';

/** State backend for one process: no install, no persistence. */
export class MemoryBackend implements StateBackend {
  readonly kind = 'memory' as const;
  private serverId: string | null = null;

  constructor(private readonly store: MemoryStore = new MemoryStore()) {}

  async start(instance: InstanceInfo, sink: BusSink): Promise<void> {
    if (this.store.instances.has(instance.serverId)) throw new Error(`instance ${instance.serverId} already attached`);
    this.serverId = instance.serverId;
    this.store.instances.set(instance.serverId, sink);
  }

  async stop(): Promise<void> {
    if (this.serverId === null) return;
    this.store.instances.delete(this.serverId);
    for (const record of [...this.store.peers.values()]) {
      if (record.serverId === this.serverId) this.store.remove(record);
    }
    this.serverId = null;
  }

  healthy(): boolean {
    return this.serverId !== null;
  }

  async register(request: RegisterRequest): Promise<RegisterOutcome> {
    const { store } = this;
    const wanted = request.record;
    const prior = store.peers.get(wanted.peerId) ?? null;
    const owner = store.owners.get(wanted.peerId);
    const ownedByOther = owner !== undefined && owner.expiresAt > Date.now() && owner.subject !== wanted.subject;
    const ownsId =
      !ownedByOther && (prior === null || prior.connectionId === wanted.connectionId || takeoverProven(request, prior));
    const current = request.current;
    let vacated: PeerRecord | null = null;
    if (current && current.peerId !== wanted.peerId) {
      const held = store.peers.get(current.peerId);
      if (held && held.connectionId === current.connectionId) vacated = held;
    }

    // ROOM_FULL precedes PEER_ID_TAKEN; the peer's own slots in the room count as free.
    let occupied = store.room(wanted.roomId)?.peers.size ?? 0;
    if (ownsId && prior && prior.roomId === wanted.roomId) occupied--;
    if (vacated && vacated.roomId === wanted.roomId) occupied--;
    if (occupied >= request.maxPeersPerRoom) return { ok: false, code: 'ROOM_FULL' };
    if (!ownsId) return { ok: false, code: 'PEER_ID_TAKEN' };

    if (vacated) store.remove(vacated);
    const sameRoom = prior !== null && prior.roomId === wanted.roomId;
    if (prior && !sameRoom) store.remove(prior);
    // The session token is kept by the connection holding it, and by a takeover proved with it.
    const keepsToken = sameRoom && (prior.connectionId === wanted.connectionId || request.proof.sessionToken === prior.sessionToken);
    const record: PeerRecord = sameRoom
      ? { ...wanted, sessionToken: keepsToken ? prior.sessionToken : wanted.sessionToken, connectedAt: prior.connectedAt }
      : wanted;

    const room = store.roomOrCreate(record.roomId);
    let adminConflict: string | null = null;
    if (request.wantAdmin) {
      if (room.admin === null || room.admin === record.peerId) room.admin = record.peerId;
      else adminConflict = room.admin;
    } else if (room.admin === record.peerId) {
      room.admin = null;
    }
    store.put(record);
    if (record.subject !== null) {
      const now = Date.now();
      store.owners.put(record.peerId, { subject: record.subject, expiresAt: now + (request.ownershipTtlMs ?? DEFAULT_OWNERSHIP_TTL_MS) }, now);
    }
    const roomPeers = [...room.peers.values()].filter((p) => p.peerId !== record.peerId).sort(discoveryOrder);
    const presenceAudience = roomPeers.some((p) => p.presence);
    return { ok: true, record, prior, vacated, adminPeerId: room.admin, adminConflict, roomPeers, presenceAudience };
  }

  async unregister(peerId: string, connectionId: string): Promise<PeerRecord | null> {
    const record = this.store.peers.get(peerId);
    if (!record || record.connectionId !== connectionId) return null;
    this.store.remove(record);
    return record;
  }

  async updatePeer(record: PeerRecord): Promise<boolean> {
    const held = this.store.peers.get(record.peerId);
    if (!held || held.connectionId !== record.connectionId || held.roomId !== record.roomId) return false;
    this.store.put(record);
    return true;
  }

  async getPeer(peerId: string): Promise<PeerRecord | null> {
    return this.store.peers.get(peerId) ?? null;
  }

  async listRoom(roomId: string): Promise<PeerRecord[]> {
    const room = this.store.room(roomId);
    return room ? [...room.peers.values()].sort(discoveryOrder) : [];
  }

  async route(roomId: string, targetPeerId: string, frame: string, origin: RelayOrigin): Promise<RouteResult> {
    const target = this.store.peers.get(targetPeerId);
    if (!target) return 'not_found';
    if (target.roomId !== roomId) return 'not_in_room';
    const sink = this.store.instances.get(target.serverId);
    const refuse = () => this.store.instances.get(serverOfConnection(origin.connectionId))?.refused(origin, targetPeerId, 'not_found');
    return sink?.deliver(targetPeerId, roomId, frame, refuse) ? 'delivered' : 'not_found';
  }

  async publishPresence(roomId: string, aboutConnectionId: string, frame: string): Promise<void> {
    for (const sink of this.store.instances.values()) sink.presence(roomId, aboutConnectionId, frame);
  }

  async census(): Promise<RoomCensus> {
    const rooms = this.store.rooms;
    return { rooms: rooms.size, sizes: [...rooms.values()].map((r) => r.peers.size) };
  }

  async listRooms(): Promise<RoomEntry[]> {
    const now = Date.now();
    const createdRoom = (roomId: string) => {
      const record = this.store.roomRecords.get(roomId);
      return record === undefined || roomExpired(record, now) ? null : { createdAt: record.createdAt, expiresAt: record.expiresAt };
    };
    const entries: RoomEntry[] = [];
    for (const [roomId, room] of this.store.rooms) {
      const peers = [...room.peers.values()].sort(discoveryOrder);
      entries.push({ roomId, peers, admin: room.admin, createdAt: room.createdAt, lastUsed: room.lastUsed, createdRoom: createdRoom(roomId) });
    }
    for (const [roomId, record] of this.store.roomRecords) {
      if (this.store.rooms.has(roomId) || roomExpired(record, now)) continue;
      entries.push({ roomId, peers: [], admin: null, createdAt: record.createdAt, lastUsed: record.createdAt, createdRoom: createdRoom(roomId) });
    }
    return entries;
  }

  async createRoom(room: RoomRecord): Promise<boolean> {
    requireWholeMs(room.expiresAt, 'room expiry');
    if ((await this.getRoom(room.roomId)) !== null) return false;
    this.store.roomRecords.put(room.roomId, room, Date.now());
    return true;
  }

  async getRoom(roomId: string): Promise<RoomRecord | null> {
    const room = this.store.roomRecords.get(roomId);
    if (room === undefined) return null;
    if (roomExpired(room, Date.now())) {
      this.store.roomRecords.delete(roomId);
      return null;
    }
    return room;
  }

  async deleteRoom(roomId: string): Promise<boolean> {
    this.store.roomRecords.delete(roomId);
    return (await this.listRoom(roomId)).length === 0;
  }

  async putApiKey(key: ApiKeyRecord): Promise<void> {
    if (key.expiresAt !== null) requireWholeMs(key.expiresAt, 'API key expiry');
    this.store.apiKeys.put(key.id, key, Date.now());
  }

  async getApiKey(id: string): Promise<ApiKeyRecord | null> {
    const key = this.store.apiKeys.get(id);
    if (key === undefined) return null;
    if (keyGone(key, Date.now())) {
      this.store.apiKeys.delete(id);
      return null;
    }
    return key;
  }

  async listApiKeys(): Promise<ApiKeyRecord[]> {
    const now = Date.now();
    const kept: ApiKeyRecord[] = [];
    for (const [id, key] of this.store.apiKeys) {
      if (keyGone(key, now)) this.store.apiKeys.delete(id);
      else kept.push(key);
    }
    return kept.sort((a, b) => a.createdAt - b.createdAt);
  }

  async revokeApiKey(id: string, at: number): Promise<boolean> {
    const key = await this.getApiKey(id);
    if (!key) return false;
    this.store.apiKeys.set(id, { ...key, revokedAt: key.revokedAt ?? at });
    return true;
  }

  async sendControl(serverId: string, message: ControlMessage): Promise<boolean> {
    const instance = this.store.instances.get(serverId);
    instance?.control(message);
    return instance !== undefined;
  }

  async removePeer(ref: RegistrationRef): Promise<PeerRecord | null> {
    return this.unregister(ref.peerId, ref.connectionId);
  }
}

function takeoverProven(request: RegisterRequest, prior: PeerRecord): boolean {
  if (request.newestWins) return true;
  const { sessionToken, subject } = request.proof;
  if (sessionToken !== null && sessionToken === prior.sessionToken) return true;
  return subject !== null && subject === prior.subject;
}

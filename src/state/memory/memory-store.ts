import type { ApiKeyRecord, BusSink, PeerRecord, RoomRecord } from '../state-backend.js';
import { PruningMap } from './pruning-map.js';

/** An expired API key is still listed (as expired) for a day, as Redis keeps it. */
export const EXPIRED_KEY_RETENTION_MS = 86_400_000;

interface RoomState {
  readonly peers: Map<string, PeerRecord>;
  admin: string | null;
  /** Unix ms of its first join, and of its last join or leave (for the operator views). */
  readonly createdAt: number;
  lastUsed: number;
}

/**
 * The in-memory shared state: rooms, peers and the attached instances. One store normally
 * serves one server; several in-process servers may share one to behave as a cluster.
 */
export class MemoryStore {
  readonly peers = new Map<string, PeerRecord>();
  readonly rooms = new Map<string, RoomState>();
  readonly instances = new Map<string, BusSink>();
  /** Created rooms (`--rooms token`), by id. */
  readonly roomRecords = new PruningMap<string, RoomRecord>(roomExpired);
  readonly apiKeys = new PruningMap<string, ApiKeyRecord>(keyGone);
  /** Peer id → the authenticated subject that owns it, until `expiresAt` (Unix ms). */
  readonly owners = new PruningMap<string, { subject: string; expiresAt: number }>((owner, now) => owner.expiresAt <= now);

  room(roomId: string): RoomState | undefined {
    return this.rooms.get(roomId);
  }

  roomOrCreate(roomId: string): RoomState {
    let room = this.rooms.get(roomId);
    if (!room) {
      const now = Date.now();
      room = { peers: new Map(), admin: null, createdAt: now, lastUsed: now };
      this.rooms.set(roomId, room);
    }
    return room;
  }

  put(record: PeerRecord): void {
    this.peers.set(record.peerId, record);
    const room = this.roomOrCreate(record.roomId);
    if (!room.peers.has(record.peerId)) room.lastUsed = Date.now();
    room.peers.set(record.peerId, record);
  }

  remove(record: PeerRecord): void {
    this.peers.delete(record.peerId);
    const room = this.rooms.get(record.roomId);
    if (!room) return;
    room.lastUsed = Date.now();
    room.peers.delete(record.peerId);
    if (room.admin === record.peerId) room.admin = null;
    if (room.peers.size === 0) this.rooms.delete(record.roomId);
  }
}

export function roomExpired(room: RoomRecord, now: number): boolean {
  return room.expiresAt <= now;
}

/** Whether a key is past its retention (expired more than a day ago) and no longer stored. */
export function keyGone(key: ApiKeyRecord, now: number): boolean {
  return key.expiresAt !== null && key.expiresAt + EXPIRED_KEY_RETENTION_MS <= now;
}

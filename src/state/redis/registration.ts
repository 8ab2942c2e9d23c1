import type { PeerLeftReason } from '../../protocol/messages.js';
import {
  DEFAULT_OWNERSHIP_TTL_MS,
  serverOfConnection,
  type PeerRecord,
  type RegisterOutcome,
  type RegisterRequest,
} from '../state-backend.js';
import type { OwnedPeers } from './owned-peers.js';
import { roomTtlSeconds, type RedisCore } from './redis-core.js';
import type { RoomCopies } from './room-copy.js';
import { roomEpoch, type JoinArgs } from './scripts.js';
import { sessionHash, storedRecordJson } from './stored-record.js';

/**
 * Peers in and out of shared state: claims of peer ids, joins with the versioned room copy, leaves
 * and updates. Every registration of this instance is kept in `owned` too.
 */
export class Registration {
  constructor(
    private readonly core: RedisCore,
    private readonly copies: RoomCopies,
    private readonly owned: OwnedPeers,
    private readonly serverId: () => string,
    /** A standalone Redis, where a first registration takes one call and replies come in order. */
    private readonly standalone: boolean,
  ) {}

  async register(request: RegisterRequest): Promise<RegisterOutcome> {
    // A standalone Redis takes a first registration under a free id in one call. A client that
    // offers a session token is coming back for an id it held (a reconnect, often a storm of
    // them): that id is most likely still held, so it goes straight to claim + join.
    if (this.standalone && request.current === null && request.proof.sessionToken === null) {
      const outcome = await this.registerFresh(request);
      if (outcome !== null) return outcome;
    }
    const { keys, scripts, runner, cmd } = this.core;
    const wanted = request.record;
    const { peerId, roomId, connectionId } = wanted;
    const proofHash = sessionHash(request.proof.sessionToken);
    const newHash = sessionHash(wanted.sessionToken);
    const claim = await runner.run('claim', () =>
      scripts.claim(keys.peer(peerId), keys.peerOwner(peerId), {
        connectionId,
        roomId,
        proofHash,
        proofSubject: request.proof.subject ?? '',
        newestWins: request.newestWins,
        sessionHash: newHash,
        connectedAt: String(wanted.connectedAt),
        subject: wanted.subject ?? '',
        ttlSeconds: this.ttlSeconds,
        ownershipTtlMs: request.ownershipTtlMs ?? DEFAULT_OWNERSHIP_TTL_MS,
      }),
    );
    const current = request.current;
    if (claim.taken) {
      // ROOM_FULL precedes PEER_ID_TAKEN when both apply.
      const size = await runner.run('hlen', () => cmd.hlen(keys.roomPeers(roomId)));
      const own = current && current.roomId === roomId ? 1 : 0;
      return { ok: false, code: size - own >= request.maxPeersPerRoom ? 'ROOM_FULL' : 'PEER_ID_TAKEN' };
    }
    const { prior: priorClaim } = claim;
    // Redis returns the hash it kept: the new token's, the proof's (a takeover proved with it), or
    // this connection's own (a registration in place, whose token this instance holds).
    const sessionToken =
      claim.sessionHash === newHash
        ? wanted.sessionToken
        : claim.sessionHash === proofHash
          ? request.proof.sessionToken!
          : (this.owned.peers.get(peerId)?.record.sessionToken ?? wanted.sessionToken);
    const record: PeerRecord = { ...wanted, sessionToken, connectedAt: Number(claim.connectedAt) };
    const vacatedId = current && current.peerId !== peerId ? current.peerId : null;
    const vacatedOwned = vacatedId !== null ? this.owned.peers.get(vacatedId) : undefined;
    const vacatedInRoom = vacatedId !== null && current!.roomId === roomId ? vacatedId : '';
    const now = Date.now();
    const { reply, others } = await this.copies.join('join', roomId, record, vacatedInRoom, (expectedVersion, heldVersion) =>
      scripts.join(keys.room(roomId), this.joinArgs(request, record, vacatedInRoom, now, expectedVersion, heldVersion)),
    );
    if (!reply?.joined) {
      await runner.run('unclaim', () => scripts.unclaim(keys.peer(peerId), connectionId, priorClaim));
      return { ok: false, code: 'ROOM_FULL' };
    }
    const roomPeers = others ?? (await this.othersIn(roomId, peerId));

    // Follow-up writes in other slots, in parallel: the old room of a move, the vacated id, indexes.
    const follow: Promise<unknown>[] = [this.touchRoom(roomId, now)];
    let prior: PeerRecord | null = reply.previousJson ? (JSON.parse(reply.previousJson) as PeerRecord) : null;
    if (priorClaim && priorClaim.roomId !== roomId) {
      follow.push(
        this.leaveRoom(priorClaim.roomId, peerId, priorClaim.connectionId).then((rec) => {
          prior = rec;
        }),
      );
    }
    if (priorClaim && priorClaim.connectionId !== connectionId) {
      const priorServer = serverOfConnection(priorClaim.connectionId);
      if (priorServer !== this.serverId()) follow.push(runner.run('srem', () => cmd.srem(keys.serverPeers(priorServer), peerId)));
    }
    let vacated: PeerRecord | null = null;
    if (vacatedId !== null) {
      vacated = vacatedOwned?.record ?? null;
      if (!vacatedInRoom) follow.push(this.leaveRoom(current!.roomId, vacatedId, connectionId));
      follow.push(runner.run('release', () => scripts.release(keys.peer(vacatedId), connectionId)));
      follow.push(runner.run('srem', () => cmd.srem(keys.serverPeers(this.serverId()), vacatedId)));
      this.owned.peers.delete(vacatedId);
    }
    follow.push(runner.run('sadd', () => cmd.sadd(keys.serverPeers(this.serverId()), peerId)));
    await Promise.all(follow);
    const { admin: adminPeerId, adminConflict, audience } = reply;
    this.owned.peers.set(peerId, { record, admin: adminPeerId === peerId });
    return { ok: true, record, prior, vacated, adminPeerId, adminConflict, roomPeers, presenceAudience: audience > 0 };
  }

  /** register-fresh.lua; null when the id is held or owned (then claim + join decide). */
  private async registerFresh(request: RegisterRequest): Promise<RegisterOutcome | null> {
    const { keys, scripts } = this.core;
    const record = request.record;
    const { peerId, roomId, connectionId } = record;
    const now = Date.now();
    const { reply, others } = await this.copies.join('register', roomId, record, '', (expectedVersion, heldVersion) =>
      scripts.registerFresh(
        {
          peer: keys.peer(peerId),
          owner: keys.peerOwner(peerId),
          room: keys.room(roomId),
          roomsIndex: keys.rooms,
          instancePeers: keys.serverPeers(this.serverId()),
        },
        {
          connectionId,
          roomId,
          sessionHash: sessionHash(record.sessionToken),
          connectedAt: String(record.connectedAt),
          subject: record.subject ?? '',
          ttlSeconds: this.ttlSeconds,
          ownershipTtlMs: request.ownershipTtlMs ?? DEFAULT_OWNERSHIP_TTL_MS,
          now,
          roomsIndexTtlMs: this.core.options.roomTtlMs,
        },
        this.joinArgs(request, record, '', now, expectedVersion, heldVersion),
      ),
    );
    if (reply === null) return null;
    if (!reply.joined) return { ok: false, code: 'ROOM_FULL' };
    const roomPeers = others ?? (await this.othersIn(roomId, peerId));
    this.owned.peers.set(peerId, { record, admin: reply.admin === peerId });
    return { ok: true, record, prior: null, vacated: null, adminPeerId: reply.admin, adminConflict: reply.adminConflict, roomPeers, presenceAudience: reply.audience > 0 };
  }

  /**
   * Removes an owned peer. With Redis unreachable (`reachable` false) or failing, the leave waits
   * in `pendingLeaves` and the record is returned as removed.
   */
  async unregister(peerId: string, connectionId: string, reason: PeerLeftReason, reachable: boolean): Promise<PeerRecord | null> {
    const owned = this.owned.heldBy(peerId, connectionId);
    if (owned === null) return null;
    this.owned.peers.delete(peerId);
    const { record } = owned;
    if (!reachable) {
      this.owned.pendingLeaves.set(peerId, { record, reason });
      return record;
    }
    try {
      return await this.removeShared(record.roomId, peerId, connectionId);
    } catch {
      this.owned.pendingLeaves.set(peerId, { record, reason });
      return record;
    }
  }

  async updatePeer(record: PeerRecord): Promise<boolean> {
    const owned = this.owned.heldBy(record.peerId, record.connectionId);
    if (owned === null || owned.record.roomId !== record.roomId) return false;
    const { keys, runner, scripts } = this.core;
    const ok = await runner.run('update', () => scripts.update(keys.room(record.roomId), record.peerId, record.connectionId, storedRecordJson(record), this.ttlSeconds));
    if (ok) owned.record = record;
    return ok;
  }

  async getPeer(peerId: string): Promise<PeerRecord | null> {
    const { keys, runner, cmd } = this.core;
    const roomId = await runner.run('hget', () => cmd.hget(keys.peer(peerId), 'room'));
    if (!roomId) return null;
    const raw = await runner.run('hget', () => cmd.hget(keys.roomPeers(roomId), peerId));
    return raw ? (JSON.parse(raw) as PeerRecord) : null;
  }

  /**
   * Takes a peer out of shared state where `connectionId` still holds it: out of its room, its id
   * released, out of its instance's set. The removed record, or null when it was not there.
   */
  async removeShared(roomId: string, peerId: string, connectionId: string): Promise<PeerRecord | null> {
    const { keys, runner, scripts, cmd } = this.core;
    const [removed] = await Promise.all([
      this.leaveRoom(roomId, peerId, connectionId),
      runner.run('release', () => scripts.release(keys.peer(peerId), connectionId)),
      runner.run('srem', () => cmd.srem(keys.serverPeers(serverOfConnection(connectionId)), peerId)),
    ]);
    return removed;
  }

  /** Marks a room used in the room index (which expires with the last use of any room). */
  touchRoom(roomId: string, now: number): Promise<unknown> {
    const { keys, runner, cmd, options } = this.core;
    return runner.run('touch_room', () => Promise.all([cmd.zadd(keys.rooms, now, roomId), cmd.pexpire(keys.rooms, options.roomTtlMs)]));
  }

  private async leaveRoom(roomId: string, peerId: string, connectionId: string): Promise<PeerRecord | null> {
    const { keys, runner, scripts } = this.core;
    const now = Date.now();
    const raw = await runner.run('leave', () => scripts.leave(keys.room(roomId), peerId, connectionId, now, this.ttlSeconds));
    if (!raw) return null;
    // The leave moved the room's version on: the copy is stale, and a room everyone left keeps none.
    this.copies.drop(roomId);
    // Only a real departure marks the room used (a room an operator deleted must not come back).
    await this.touchRoom(roomId, now);
    return JSON.parse(raw) as PeerRecord;
  }

  private async othersIn(roomId: string, peerId: string): Promise<PeerRecord[]> {
    return (await this.copies.list(roomId)).filter((p) => p.peerId !== peerId);
  }

  /** join()'s arguments for this record. */
  private joinArgs(request: RegisterRequest, record: PeerRecord, vacatedInRoom: string, now: number, expectedVersion: string, heldVersion: string): JoinArgs {
    return {
      peerId: record.peerId,
      recordJson: this.copies.written(record, storedRecordJson(record)),
      connectionId: record.connectionId,
      presence: record.presence,
      maxPeers: request.maxPeersPerRoom,
      wantAdmin: request.wantAdmin,
      vacatedInRoom,
      now,
      ttlSeconds: this.ttlSeconds,
      expectedVersion,
      heldVersion,
      epoch: roomEpoch(),
      ordered: this.standalone,
    };
  }

  private get ttlSeconds(): number {
    return roomTtlSeconds(this.core.options);
  }
}

import type { IncomingMessage } from 'node:http';
import { safeEqual } from '../auth/secrets.js';
import { issueApiKey, newRoomRecord, publicKey } from '../admin/records.js';
import { API_KEY_LIFETIME, lifetimeMs, ROOM_LIFETIME } from '../admin/lifetimes.js';
import { checkRoomId } from '../admin/room-id.js';
import { DEFAULT_KICK_REASON, deleteRoomWithPeers, kickPeer } from '../admin/peer-removal.js';
import { Authenticator } from '../auth/authenticator.js';
import { actsAsOperator, creatorOf, type Caller } from './caller.js';
import { clientAddress } from './client-address.js';
import { KeyedRateLimiter, type Rate } from './keyed-rate-limiter.js';
import { liveKeysOf, mayCreateReservedRoom, mayManageRoom } from './room-access.js';
import type { CreateRoomRequest, DeletePeerRequest, DeleteRoomRequest, HttpReply } from './http-types.js';
import type { ServerContext } from './server-context.js';

/**
 * Room creations allowed per client address and per credential subject, on each instance: a burst
 * of 30, then one every 10 s. The operator token is not limited.
 */
export const CREATE_ROOM_RATE: Rate = Object.freeze({ ratePerSecond: 0.1, burst: 30 });

/** What operators (and room creators) can do over HTTP: kick, delete rooms, create rooms, manage API keys. */
export class OperatorActions {
  private readonly roomCreations = new KeyedRateLimiter(CREATE_ROOM_RATE);

  constructor(private readonly ctx: ServerContext) {}

  /**
   * Who calls: anyone with authentication off and no operator token (local development); otherwise
   * the operator token, or (where `credentials` allows it and authentication is on) a valid
   * credential's subject. Null when none of these.
   */
  async allowed(req: IncomingMessage, credentials: boolean): Promise<Caller | null> {
    const expected = this.ctx.options.operatorToken;
    const given = bearer(req);
    const address = clientAddress(req, this.ctx.options.trustProxy);
    if (expected === null && !this.ctx.auth.enabled) return { kind: 'anyone', address };
    if (expected !== null && safeEqual(given, expected)) return { kind: 'operator', address };
    if (!credentials || !this.ctx.auth.enabled || given === null) return null;
    const verified = await this.ctx.auth.verify(given);
    return verified.ok && verified.identity !== null ? { kind: 'subject', subject: verified.identity.subject, address } : null;
  }

  async createRoom({ caller, body }: CreateRoomRequest): Promise<HttpReply> {
    const { options, state } = this.ctx;
    if (options.rooms === 'open') {
      return refusal(409, 'ROOMS_OPEN', 'rooms are open on this server (--rooms open): any room id can be joined without creating it');
    }
    const limited = this.limitRoomCreation(caller);
    if (limited !== null) return limited;
    const named = body.room_id == null ? null : checkRoomId(body.room_id, options.limits.maxIdLength);
    if (named !== null && !named.ok) return { status: 400, body: { error: named.error } };
    const roomId = named?.roomId ?? null;
    const lifetime = body.expires_in === undefined ? { ok: true as const, ms: Math.round(options.roomExpiresMs) } : lifetimeMs(body.expires_in, ROOM_LIFETIME);
    if (!lifetime.ok) return { status: 400, body: { error: lifetime.error } };
    if (roomId !== null) {
      if ((await state.getRoom(roomId)) !== null) return roomExists(roomId);
      const bound = liveKeysOf(await state.listApiKeys(), roomId, Date.now());
      if (!mayCreateReservedRoom(caller, bound)) {
        this.ctx.log.info({ event: 'room_create_refused', roomId, caller: describe(caller), boundKeys: bound.length }, 'reserved room id refused');
        return refusal(
          409,
          'ROOM_RESERVED',
          `room ${roomId} is reserved: ${bound.length} API key(s) of workers are bound to it; only the operator, or whoever created the room they were issued for, may create it again`,
        );
      }
    }
    const { record, token } = newRoomRecord(roomId, lifetime.ms, creatorOf(caller));
    if (!(await state.createRoom(record))) return roomExists(record.roomId);
    this.ctx.log.info({ event: 'room_created', roomId: record.roomId, expiresAt: record.expiresAt, createdBy: record.createdBy }, 'room created');
    return { status: 200, body: { room_id: record.roomId, token, expires_at: Math.floor(record.expiresAt / 1000) } };
  }

  async deletePeer({ caller, peerId, reason }: DeletePeerRequest): Promise<HttpReply> {
    const record = await this.ctx.state.getPeer(peerId);
    if (record === null) return { status: 404, body: { error: `peer ${peerId} not found` } };
    if (!(await this.mayManage(caller, record.roomId))) {
      return this.forbidden(caller, record.roomId, `only the operator token or the creator of room ${record.roomId} may remove its peers`);
    }
    const kicked = await kickPeer(this.ctx.state, peerId, reason ?? DEFAULT_KICK_REASON, record);
    if (kicked === null) return { status: 404, body: { error: `peer ${peerId} not found` } };
    this.logKicked(kicked.peerId, kicked.roomId);
    return { status: 200, body: { deleted: peerId, room_id: kicked.roomId } };
  }

  async deleteRoom(request: DeleteRoomRequest): Promise<HttpReply> {
    const { caller } = request;
    let roomId: string;
    if ('roomId' in request) roomId = request.roomId;
    else {
      const record = await this.ctx.state.getPeer(request.peerId);
      if (record === null) return { status: 404, body: { error: `peer ${request.peerId} not found` } };
      roomId = record.roomId;
    }
    const created = await this.ctx.state.getRoom(roomId);
    if (!mayManageRoom(caller, created)) {
      return this.forbidden(caller, roomId, `only the operator token or the room's creator may delete room ${roomId}`);
    }
    const deleted = await deleteRoomWithPeers(this.ctx.state, roomId, request.reason ?? DEFAULT_KICK_REASON);
    if (deleted === null) return { status: 404, body: { error: `room ${roomId} not found` } };
    for (const p of deleted.peers) this.logKicked(p.peerId, roomId);
    return { status: 200, body: { room_id: roomId, deleted_peers: deleted.peers.map((p) => p.peerId) } };
  }

  async createApiKey(body: Record<string, unknown>): Promise<HttpReply> {
    const { name, expires_in: expiresIn } = body;
    const room = checkRoomId(body.room_id, this.ctx.options.limits.maxIdLength);
    if (!room.ok) return { status: 400, body: { error: room.error } };
    const { roomId } = room;
    if (typeof name !== 'string' || name.length === 0) return { status: 400, body: { error: 'name is required' } };
    const lifetime = expiresIn === undefined || expiresIn === null ? { ok: true as const, ms: null } : lifetimeMs(expiresIn, API_KEY_LIFETIME);
    if (!lifetime.ok) return { status: 400, body: { error: lifetime.error } };
    const { record, key } = await issueApiKey(this.ctx.state, roomId, name, lifetime.ms);
    this.ctx.log.info({ event: 'api_key_created', keyId: record.id, roomId, name }, 'API key created');
    return { status: 200, body: { ...publicKey(record), key } };
  }

  async listApiKeys(): Promise<HttpReply> {
    return { status: 200, body: { keys: (await this.ctx.state.listApiKeys()).map(publicKey) } };
  }

  async revokeApiKey(id: string): Promise<HttpReply> {
    const ok = await this.ctx.state.revokeApiKey(id, Date.now());
    if (!ok) return { status: 404, body: { error: `API key ${id} not found` } };
    this.ctx.log.info({ event: 'api_key_revoked', keyId: id }, 'API key revoked');
    return { status: 200, body: { revoked: id } };
  }

  /** 429 once the caller's address (and subject) used up its room creations; the operator is not limited. */
  private limitRoomCreation(caller: Caller): HttpReply | null {
    if (caller.kind === 'operator') return null;
    const keys = caller.kind === 'subject' ? [`address:${caller.address}`, `subject:${caller.subject}`] : [`address:${caller.address}`];
    const admission = this.roomCreations.take(keys);
    if (admission.ok) return null;
    const retryAfter = String(admission.retryAfterSeconds);
    return { ...refusal(429, 'RATE_LIMITED', `too many rooms created; retry in ${retryAfter} s`), headers: { 'retry-after': retryAfter } };
  }

  private async mayManage(caller: Caller, roomId: string): Promise<boolean> {
    return actsAsOperator(caller) || mayManageRoom(caller, await this.ctx.state.getRoom(roomId));
  }

  private forbidden(caller: Caller, roomId: string, error: string): HttpReply {
    this.ctx.log.info({ event: 'operator_forbidden', roomId, caller: describe(caller) }, 'operator request refused');
    return refusal(403, 'FORBIDDEN', error);
  }

  private logKicked(peerId: string, roomId: string): void {
    this.ctx.log.info({ event: 'kicked', peerId, roomId }, 'peer removed by an operator');
  }
}

function refusal(status: number, code: string, error: string): HttpReply {
  return { status, body: { error, code } };
}

function roomExists(roomId: string): HttpReply {
  return refusal(409, 'ROOM_EXISTS', `room ${roomId} exists already`);
}

/** A caller as logs show it: never a credential. */
function describe(caller: Caller): string {
  return caller.kind === 'subject' ? caller.subject : caller.kind;
}

function bearer(req: IncomingMessage): string | null {
  return Authenticator.upgradeCredential({ headers: req.headers, url: '' } as IncomingMessage);
}

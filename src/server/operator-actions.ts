import type { IncomingMessage } from 'node:http';
import { CloseCode } from '../protocol/close-codes.js';
import type { ControlMessage, PeerRecord } from '../state/state-backend.js';
import { safeEqual } from '../auth/secrets.js';
import { newApiKeyRecord, newRoomRecord, publicKey } from '../admin/records.js';
import { Authenticator } from '../auth/authenticator.js';
import { announceLeft } from './presence.js';
import type { HttpReply } from './http-routes.js';
import type { ServerContext } from './server-context.js';

const MAX_ROOM_EXPIRY_MS = 30 * 86_400_000;

/** What operators (and room creators) can do over HTTP: kick, delete rooms, create rooms, manage API keys. */
export class OperatorActions {
  constructor(
    private readonly ctx: ServerContext,
    /** Closes a connection of this instance as the bus would. */
    private readonly closeLocal: (message: ControlMessage) => void,
  ) {}

  /**
   * Open with authentication off and no operator token (local development); otherwise the
   * operator token, or (where `credentials` allows it and authentication is on) a valid credential.
   */
  async allowed(req: IncomingMessage, credentials: boolean): Promise<boolean> {
    const expected = this.ctx.options.operatorToken;
    const given = bearer(req);
    if (expected === null && !this.ctx.auth.enabled) return true;
    if (expected !== null && safeEqual(given, expected)) return true;
    if (!credentials || !this.ctx.auth.enabled || given === null) return false;
    return (await this.ctx.auth.verify(given)).ok;
  }

  async createRoom(body: Record<string, unknown>): Promise<HttpReply> {
    const roomId = body.room_id ?? null;
    if (roomId !== null && (typeof roomId !== 'string' || roomId.length === 0 || roomId.length > this.ctx.options.limits.maxIdLength)) {
      return { status: 400, body: { error: `room_id must be a string of 1 to ${this.ctx.options.limits.maxIdLength} characters` } };
    }
    const expiresIn = body.expires_in;
    if (expiresIn !== undefined && (typeof expiresIn !== 'number' || !(expiresIn > 0) || expiresIn * 1000 > MAX_ROOM_EXPIRY_MS)) {
      return { status: 400, body: { error: 'expires_in must be a number of seconds, at most 30 days' } };
    }
    const { record, token } = newRoomRecord(roomId, typeof expiresIn === 'number' ? expiresIn * 1000 : this.ctx.options.roomExpiresMs);
    if (!(await this.ctx.state.createRoom(record))) return { status: 409, body: { error: `room ${record.roomId} exists already` } };
    this.ctx.log.info({ event: 'room_created', roomId: record.roomId, expiresAt: record.expiresAt }, 'room created');
    return { status: 200, body: { room_id: record.roomId, token, expires_at: Math.floor(record.expiresAt / 1000) } };
  }

  async deletePeer(peerId: string): Promise<HttpReply> {
    const record = await this.ctx.state.getPeer(peerId);
    if (record === null) return { status: 404, body: { error: `peer ${peerId} not found` } };
    await this.kick(record);
    return { status: 200, body: { deleted: peerId, room_id: record.roomId } };
  }

  async deleteRoom(selector: { roomId?: string; peerId?: string }): Promise<HttpReply> {
    let roomId = selector.roomId;
    if (roomId === undefined) {
      const record = await this.ctx.state.getPeer(selector.peerId!);
      if (record === null) return { status: 404, body: { error: `peer ${selector.peerId} not found` } };
      roomId = record.roomId;
    }
    const peers = await this.ctx.state.listRoom(roomId);
    const created = await this.ctx.state.getRoom(roomId);
    if (peers.length === 0 && created === null) return { status: 404, body: { error: `room ${roomId} not found` } };
    for (const record of peers) await this.kick(record);
    await this.ctx.state.deleteRoom(roomId);
    return { status: 200, body: { room_id: roomId, deleted_peers: peers.map((p) => p.peerId) } };
  }

  async createApiKey(body: Record<string, unknown>): Promise<HttpReply> {
    const { room_id: roomId, name, expires_in: expiresIn } = body;
    if (typeof roomId !== 'string' || roomId.length === 0) return { status: 400, body: { error: 'room_id is required' } };
    if (typeof name !== 'string' || name.length === 0) return { status: 400, body: { error: 'name is required' } };
    if (expiresIn !== undefined && expiresIn !== null && (typeof expiresIn !== 'number' || !(expiresIn > 0))) {
      return { status: 400, body: { error: 'expires_in must be a positive number of seconds' } };
    }
    const { record, key } = newApiKeyRecord(roomId, name, typeof expiresIn === 'number' ? expiresIn : null);
    await this.ctx.state.putApiKey(record);
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

  /**
   * Operator removal: the shared record goes first (so a dead owner cannot keep it), subscribers
   * are told `kicked`, then the owning instance closes the socket.
   */
  private async kick(record: PeerRecord): Promise<void> {
    const { ctx } = this;
    const removed = await ctx.state.unregister(record.peerId, record.connectionId, 'kicked');
    if (removed) await announceLeft(ctx, removed, 'kicked');
    const message: ControlMessage = {
      kind: 'close',
      peerId: record.peerId,
      connectionId: record.connectionId,
      code: CloseCode.NORMAL,
      reason: 'removed by an operator',
      leftReason: 'kicked',
    };
    if (record.serverId === ctx.serverId) this.closeLocal(message);
    else await ctx.state.sendControl(record.serverId, message);
    ctx.log.info({ event: 'kicked', peerId: record.peerId, roomId: record.roomId }, 'peer removed by an operator');
  }
}

function bearer(req: IncomingMessage): string | null {
  return Authenticator.upgradeCredential({ headers: req.headers, url: '' } as IncomingMessage);
}

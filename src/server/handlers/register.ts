import { CloseCode } from '../../protocol/close-codes.js';
import { protocolError } from '../../protocol/error-codes.js';
import { adminConflictFrame, registeredFrame, type RegisteredReply } from '../../protocol/frames.js';
import { deepEqual } from '../../protocol/json-value.js';
import { metadataBytes, normalizeMetadata } from '../../protocol/metadata.js';
import type { RegisterMessage } from '../../protocol/messages.js';
import type { PeerRecord, RegisterOutcome } from '../../state/state-backend.js';
import type { Connection } from '../connection.js';
import { announceJoined, announceLeft, announceUpdated } from '../presence.js';
import type { HandlerResult, ServerContext } from '../server-context.js';
import { matchesHash } from '../../auth/secrets.js';
import { iceServersFor } from '../ice-servers.js';

export function newPeerId(ctx: ServerContext): string {
  return `peer-${ctx.random.secret(9)}`;
}

/**
 * register: a first registration, or a re-registration (in place, or a move), or a takeover of a
 * peer id held by another connection. The backend checks and applies it atomically; on failure
 * the connection's old registration stays as it was.
 */
export async function handleRegister(ctx: ServerContext, conn: Connection, msg: RegisterMessage): Promise<HandlerResult> {
  const { limits } = ctx.options;
  const metadata = normalizeMetadata(msg.metadata);
  if (metadataBytes(metadata) > limits.maxMetadataBytes) {
    return protocolError('INVALID_MESSAGE', `metadata: larger than ${limits.maxMetadataBytes} bytes as JSON`);
  }
  // An API key (in the message, or on the upgrade) names its room; anything else must.
  const keyMayNameRoom = ctx.auth.enabled && (msg.api_key != null || conn.identity?.roomId != null);
  if (msg.room_id == null && !keyMayNameRoom) return protocolError('INVALID_MESSAGE', 'room_id: required field is missing');
  const auth = await ctx.auth.forRegister(msg, conn.identity);
  if (!auth.ok) return auth.error;
  const identity = auth.identity;
  const roomId = msg.room_id ?? identity?.roomId ?? null;
  if (roomId === null) return protocolError('INVALID_MESSAGE', 'room_id: required field is missing');
  if (identity?.roomId != null && identity.roomId !== roomId) {
    return protocolError('AUTH_FAILED', `this API key is bound to room ${identity.roomId}`);
  }
  if (ctx.options.rooms === 'token') {
    const room = await ctx.state.getRoom(roomId);
    if (room === null) return protocolError('ROOM_NOT_FOUND', `room ${roomId} does not exist or expired; create it first`);
    if (identity?.via !== 'api_key' && (msg.token == null || !matchesHash(msg.token, room.tokenHash))) {
      return protocolError('AUTH_FAILED', `room token missing or wrong for room ${roomId}`);
    }
  }
  const subject = identity?.subject ?? null;
  const current = conn.registration;
  const wanted: PeerRecord = {
    peerId: msg.peer_id ?? current?.peerId ?? newPeerId(ctx),
    roomId,
    role: msg.role ?? 'peer',
    metadata,
    connectedAt: Date.now() / 1000,
    serverId: ctx.serverId,
    connectionId: conn.id,
    sessionToken: ctx.random.secret(24),
    subject,
    presence: msg.presence ?? false,
  };
  // Relays routed here before the backend's answer arrives wait for it (LocalPeers.hold).
  const registrationEnded = ctx.local.beginRegistration(wanted.peerId);
  let outcome: RegisterOutcome;
  try {
    outcome = await ctx.state.register({
      record: wanted,
      current: current && { peerId: current.peerId, roomId: current.roomId, connectionId: conn.id },
      wantAdmin: msg.is_admin ?? false,
      proof: { sessionToken: msg.session_token ?? null, subject },
      newestWins: ctx.options.compat === 'sleap-rtc',
      ownershipTtlMs: ctx.options.ownershipTtlMs,
      maxPeersPerRoom: limits.maxPeersPerRoom,
    });
    if (outcome.ok) {
      ctx.local.bind(conn, outcome.record);
      if (outcome.prior && outcome.prior.connectionId !== conn.id) displace(ctx, outcome.prior);
      if (outcome.adminConflict !== null) {
        conn.send(adminConflictFrame(roomId, outcome.adminConflict));
      }
      conn.send(registeredReply(ctx, msg, outcome));
    }
  } finally {
    // Held relays go to whichever connection holds the id here now (after its `registered`), or are
    // answered: also when the registration failed or a step above threw.
    registrationEnded(ctx.local.get(wanted.peerId) ?? null);
  }
  if (!outcome.ok) {
    return outcome.code === 'ROOM_FULL'
      ? protocolError('ROOM_FULL', `room ${roomId} is at its limit of ${limits.maxPeersPerRoom} peers`)
      : protocolError('PEER_ID_TAKEN', `peer id ${wanted.peerId} is held by another connection`);
  }
  const { record, prior, vacated } = outcome;
  ctx.log.info(
    { event: 'registered', peerId: record.peerId, roomId, role: record.role, connectionId: conn.id, takeover: prior !== null && prior.connectionId !== conn.id },
    'peer registered',
  );

  if (vacated) await announceLeft(ctx, vacated, 'left');
  // Into the room joined: only when someone there listens (see RegisterOutcome.presenceAudience).
  const heard = outcome.presenceAudience;
  if (prior && prior.roomId === record.roomId) {
    if (heard && (prior.role !== record.role || !deepEqual(prior.metadata, record.metadata))) await announceUpdated(ctx, record);
  } else {
    if (prior) await announceLeft(ctx, prior, 'left');
    if (heard) await announceJoined(ctx, record);
  }
  return undefined;
}

/** Closes the connection that held the peer id before a takeover, wherever it lives. */
function displace(ctx: ServerContext, prior: PeerRecord): void {
  if (prior.serverId === ctx.serverId) {
    ctx.connections.get(prior.connectionId)?.close(CloseCode.REPLACED, 'replaced by a newer connection');
    return;
  }
  ctx.state
    .sendControl(prior.serverId, {
      kind: 'close',
      peerId: prior.peerId,
      connectionId: prior.connectionId,
      code: CloseCode.REPLACED,
      reason: 'replaced by a newer connection',
      leftReason: null,
    })
    .catch((err: unknown) => ctx.log.warn({ err, peerId: prior.peerId }, 'could not close the replaced connection'));
}

/** The `registered` reply; each peer's metadata JSON is cached per record object (ctx.metadataJson). */
function registeredReply(ctx: ServerContext, msg: RegisterMessage, outcome: Extract<RegisterOutcome, { ok: true }>): string {
  const { record } = outcome;
  const reply: RegisteredReply = {
    type: ctx.options.compat === 'sleap-rtc' ? 'registered_auth' : 'registered',
    peerId: record.peerId,
    roomId: record.roomId,
    role: record.role,
    token: msg.token ?? null,
    sessionToken: record.sessionToken,
    adminPeerId: outcome.adminPeerId,
    iceServers: iceServersFor(ctx.options, record.peerId, Date.now()),
    serverId: ctx.serverId,
  };
  return registeredFrame(reply, outcome.roomPeers, (p) => metadataJson(ctx, p));
}

function metadataJson(ctx: ServerContext, record: PeerRecord): string {
  let json = ctx.metadataJson.get(record);
  if (json === undefined) ctx.metadataJson.set(record, (json = JSON.stringify(record.metadata)));
  return json;
}

import { leftFrame } from '../../protocol/frames.js';
import type { PeerLeftReason } from '../../protocol/messages.js';
import type { Connection } from '../connection.js';
import { announceLeft } from '../presence.js';
import type { HandlerResult, ServerContext } from '../server-context.js';

/**
 * Ends a connection's registration: on `leave` and when the socket closes. Applied locally at
 * once; the shared record is removed only if this connection still owns it (after a takeover
 * it does not, and nothing is announced: a takeover is not a leave).
 */
export async function unregisterConnection(ctx: ServerContext, conn: Connection, reason: PeerLeftReason): Promise<void> {
  const record = conn.registration;
  if (record === null) return;
  ctx.local.unbind(conn);
  let removed = null;
  try {
    removed = await ctx.state.unregister(record.peerId, conn.id, reason);
  } catch (err) {
    ctx.log.warn({ err, peerId: record.peerId }, 'shared state not reachable; peer removed locally only');
  }
  if (removed) await announceLeft(ctx, removed, reason);
}

export async function handleLeave(ctx: ServerContext, conn: Connection): Promise<HandlerResult> {
  const record = conn.registration!;
  await unregisterConnection(ctx, conn, 'left');
  conn.send(leftFrame(record.peerId, record.roomId));
  ctx.log.info({ event: 'left', peerId: record.peerId, roomId: record.roomId, connectionId: conn.id }, 'peer left');
  return undefined;
}

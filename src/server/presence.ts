import type { PeerLeftReason } from '../protocol/messages.js';
import type { OutboundFrame, PeerRecord } from '../state/state-backend.js';
import { peerLeftFrame, presenceFrame } from '../protocol/frames.js';
import type { LocalPeers } from './local-peers.js';
import type { ServerContext } from './server-context.js';

/**
 * Presence events go to the room's subscribers on every instance (through the state bus), never
 * to the connection they are about. A failure to announce is logged, not surfaced: the change
 * itself has been applied.
 */
export async function announce(ctx: ServerContext, roomId: string, aboutConnectionId: string, frame: string) {
  try {
    await ctx.state.publishPresence(roomId, aboutConnectionId, frame);
  } catch (err) {
    ctx.log.warn({ err, roomId }, 'presence event not published');
  }
}

export function announceJoined(ctx: ServerContext, record: PeerRecord) {
  return announce(ctx, record.roomId, record.connectionId, presenceFrame('peer_joined', record));
}

export function announceUpdated(ctx: ServerContext, record: PeerRecord) {
  return announce(ctx, record.roomId, record.connectionId, presenceFrame('peer_updated', record));
}

export function announceLeft(ctx: ServerContext, record: PeerRecord, reason: PeerLeftReason) {
  return announce(ctx, record.roomId, record.connectionId, peerLeftFrame(record.peerId, reason));
}

/** Delivers a presence frame to this instance's subscribers of the room. */
export function deliverPresence(local: LocalPeers, roomId: string, aboutConnectionId: string, frame: OutboundFrame) {
  const subscribers = local.subscribers(roomId);
  if (!subscribers) return;
  for (const c of subscribers) if (c.id !== aboutConnectionId) c.send(frame);
}

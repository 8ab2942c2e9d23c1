import { protocolError } from '../../protocol/error-codes.js';
import type {
  IceCandidateMessage,
  MeshAnswerMessage,
  MeshConnectMessage,
  PeerMessage,
  WebRtcMessage,
} from '../../protocol/messages.js';
import type { RouteResult } from '../../state/state-backend.js';
import type { Connection } from '../connection.js';
import type { HandlerOutcome, HandlerResult, ServerContext } from '../server-context.js';

/**
 * Relays: build the frame the target gets (sender stamped by the server), then deliver it.
 * A target on this instance is served from the local map with no shared-state round trip;
 * any other goes through the state bus.
 */
export function handleRelay(
  ctx: ServerContext,
  conn: Connection,
  msg: PeerMessage | WebRtcMessage | MeshConnectMessage | MeshAnswerMessage | IceCandidateMessage,
): HandlerOutcome {
  const from = conn.registration!.peerId;
  switch (msg.type) {
    case 'peer_message':
      return deliver(ctx, conn, msg.type, msg.to_peer_id, false,
        JSON.stringify({ type: 'peer_message', from_peer_id: from, to_peer_id: msg.to_peer_id, payload: msg.payload }));
    case 'mesh_connect':
      return deliver(ctx, conn, msg.type, msg.target_peer_id, true,
        JSON.stringify({ type: 'mesh_offer', from_peer_id: from, offer: msg.offer }));
    case 'mesh_answer':
      return deliver(ctx, conn, msg.type, msg.target_peer_id, true,
        JSON.stringify({ type: 'mesh_answer', from_peer_id: from, answer: msg.answer }));
    case 'ice_candidate':
      return deliver(ctx, conn, msg.type, msg.target_peer_id, true,
        JSON.stringify({ type: 'ice_candidate', from_peer_id: from, candidate: msg.candidate }));
    default:
      // offer / answer / candidate / compat error: the same object, sender stamped.
      msg.sender = from;
      return deliver(ctx, conn, msg.type, msg.target, true, JSON.stringify(msg));
  }
}

function deliver(
  ctx: ServerContext,
  conn: Connection,
  type: string,
  targetId: string,
  droppableInCompat: boolean,
  frame: string,
): HandlerOutcome {
  const roomId = conn.registration!.roomId;
  const local = ctx.local.get(targetId);
  if (local !== undefined) {
    const result: RouteResult = local.registration!.roomId === roomId ? 'delivered' : 'not_in_room';
    if (result === 'delivered') local.send(frame);
    return settle(ctx, type, targetId, droppableInCompat, result);
  }
  return ctx.state.route(roomId, targetId, frame).then((result) => settle(ctx, type, targetId, droppableInCompat, result));
}

function settle(
  ctx: ServerContext,
  type: string,
  targetId: string,
  droppableInCompat: boolean,
  result: RouteResult,
): HandlerResult {
  if (result === 'delivered') {
    ctx.relayCounter.value++;
    ctx.metrics.sent(type);
    return undefined;
  }
  if (droppableInCompat && ctx.options.compat === 'sleap-rtc') {
    ctx.metrics.messagesFailed.inc({ reason: `dropped_${result}` });
    ctx.log.debug({ event: 'relay_dropped', type, targetId, result }, 'relay dropped (compat)');
    return undefined;
  }
  return result === 'not_found'
    ? protocolError('PEER_NOT_FOUND', `peer ${targetId} is not connected`)
    : protocolError('PEER_NOT_IN_ROOM', `peer ${targetId} is not in your room`);
}

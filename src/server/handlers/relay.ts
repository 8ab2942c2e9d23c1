import { protocolError, type ProtocolError } from '../../protocol/error-codes.js';
import { iceCandidateFrame, meshAnswerFrame, meshOfferFrame, peerMessageFrame, webRtcFrame } from '../../protocol/frames.js';
import type {
  IceCandidateMessage,
  MeshAnswerMessage,
  MeshConnectMessage,
  PeerMessage,
  WebRtcMessage,
} from '../../protocol/messages.js';
import type { RefusalReason } from '../../state/state-backend.js';
import type { Connection } from '../connection.js';
import type { HandlerOutcome, ServerContext } from '../server-context.js';

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
      return deliver(ctx, conn, msg.type, msg.to_peer_id, peerMessageFrame(from, msg.to_peer_id, msg.payload));
    case 'mesh_connect':
      return deliver(ctx, conn, msg.type, msg.target_peer_id, meshOfferFrame(from, msg.offer));
    case 'mesh_answer':
      return deliver(ctx, conn, msg.type, msg.target_peer_id, meshAnswerFrame(from, msg.answer));
    case 'ice_candidate':
      return deliver(ctx, conn, msg.type, msg.target_peer_id, iceCandidateFrame(from, msg.candidate));
    default:
      // offer / answer / candidate / compat error: the received object, sender stamped.
      return deliver(ctx, conn, msg.type, msg.target, webRtcFrame(msg, from));
  }
}

function deliver(ctx: ServerContext, conn: Connection, type: string, targetId: string, frame: string): HandlerOutcome {
  const roomId = conn.registration!.roomId;
  const local = ctx.local.get(targetId);
  // A holder whose socket is closing (replaced, kicked, cut off) is not the peer any more: shared
  // state knows where the peer is now, or that it is gone.
  if (local !== undefined && !local.closed) {
    if (local.registration!.roomId !== roomId) return relayRefusal(ctx, type, targetId, 'not_in_room');
    if (local.send(frame)) return delivered(ctx, type);
  }
  return ctx.state
    .route(roomId, targetId, frame, { connectionId: conn.id, requestType: type })
    .then((result) => (result === 'delivered' ? delivered(ctx, type) : relayRefusal(ctx, type, targetId, result)));
}

function delivered(ctx: ServerContext, type: string): undefined {
  ctx.relayCounter.value++;
  ctx.metrics.sent(type);
  return undefined;
}

/**
 * The error a sender gets for a relay that was not delivered, whether it is known at once or
 * later from the instance it was routed to. In compat mode WebRTC relays are dropped silently,
 * as the deployed server does.
 */
export function relayRefusal(ctx: ServerContext, type: string, targetId: string, reason: RefusalReason): ProtocolError | undefined {
  if (type !== 'peer_message' && ctx.options.compat === 'sleap-rtc') {
    ctx.metrics.messagesFailed.inc({ reason: `dropped_${reason}` });
    ctx.log.debug({ event: 'relay_dropped', type, targetId, result: reason }, 'relay dropped (compat)');
    return undefined;
  }
  switch (reason) {
    case 'not_found':
      return protocolError('PEER_NOT_FOUND', `peer ${targetId} is not connected`);
    case 'not_in_room':
      return protocolError('PEER_NOT_IN_ROOM', `peer ${targetId} is not in your room`);
    case 'unavailable':
      return protocolError('SERVICE_UNAVAILABLE', `the relay to ${targetId} could not be delivered; try again`);
  }
}

import type { ProtocolError } from './error-codes.js';
import type { JsonValue } from './json-value.js';
import type { Metadata, PeerLeftReason, WebRtcMessage } from './messages.js';

/** What the frames below say of a peer; the state layer's peer record is one. */
export interface PeerIdentity {
  readonly peerId: string;
  readonly role: string;
  readonly metadata: Metadata;
  /** Unix time in seconds, with a fraction. */
  readonly connectedAt: number;
}

/** Serialisers for everything the server sends; one place, so the wire shapes stay consistent. */

export function errorFrame(error: ProtocolError, requestType?: string): string {
  return JSON.stringify({
    type: 'error',
    code: error.code,
    message: error.message,
    reason: error.message,
    ...(requestType === undefined ? {} : { request_type: requestType }),
  });
}

export const PONG_FRAME = '{"type":"pong"}';
export const PING_FRAME = '{"type":"ping"}';

export function peerSummary(record: PeerIdentity) {
  return {
    peer_id: record.peerId,
    role: record.role,
    metadata: record.metadata,
    connected_at: record.connectedAt,
  };
}

export function presenceFrame(type: 'peer_joined' | 'peer_updated', record: PeerIdentity): string {
  return JSON.stringify({ type, peer_id: record.peerId, role: record.role, metadata: record.metadata });
}

export function peerLeftFrame(peerId: string, reason: PeerLeftReason): string {
  return JSON.stringify({ type: 'peer_left', peer_id: peerId, reason });
}

export function peerListFrame(peers: readonly ReturnType<typeof peerSummary>[]): string {
  return JSON.stringify({ type: 'peer_list', peers, count: peers.length });
}

export function metadataUpdatedFrame(peerId: string, metadata: Metadata): string {
  return JSON.stringify({ type: 'metadata_updated', peer_id: peerId, metadata });
}

export function leftFrame(peerId: string, roomId: string): string {
  return JSON.stringify({ type: 'left', peer_id: peerId, room_id: roomId });
}

export function adminConflictFrame(roomId: string, currentAdmin: string): string {
  return JSON.stringify({ type: 'admin_conflict', room_id: roomId, current_admin: currentAdmin });
}

/** The fields of a `registered` (compat: `registered_auth`) reply, besides the room's peers. */
export interface RegisteredReply {
  readonly type: 'registered' | 'registered_auth';
  readonly peerId: string;
  readonly roomId: string;
  readonly role: string;
  readonly token: string | null;
  readonly sessionToken: string;
  readonly adminPeerId: string | null;
  readonly iceServers: readonly unknown[];
  readonly serverId: string;
}

/**
 * Each peer's metadata comes already serialised (`metadataJson`, which the server caches per
 * record) and is spliced in: a registration into a room of N peers does not re-serialise N
 * metadata objects (and a peer id such as `__proto__` is only ever a JSON string here).
 */
export function registeredFrame<P extends { readonly peerId: string }>(
  reply: RegisteredReply,
  roomPeers: readonly P[],
  metadataJson: (peer: P) => string,
): string {
  const base = JSON.stringify({
    type: reply.type,
    peer_id: reply.peerId,
    room_id: reply.roomId,
    role: reply.role,
    token: reply.token,
    session_token: reply.sessionToken,
    admin_peer_id: reply.adminPeerId,
    peer_list: roomPeers.map((p) => p.peerId),
    ice_servers: reply.iceServers,
    mesh_ice_servers: reply.iceServers,
    server_id: reply.serverId,
  });
  const metadata = roomPeers.map((p) => `${JSON.stringify(p.peerId)}:${metadataJson(p)}`).join(',');
  return `${base.slice(0, -1)},"peer_metadata":{${metadata}}}`;
}

/* Relays, on the hot path: one JSON.stringify of one literal each, the sender stamped by the server. */

export function peerMessageFrame(fromPeerId: string, toPeerId: string, payload: JsonValue): string {
  return JSON.stringify({ type: 'peer_message', from_peer_id: fromPeerId, to_peer_id: toPeerId, payload });
}

export function meshOfferFrame(fromPeerId: string, offer: JsonValue): string {
  return JSON.stringify({ type: 'mesh_offer', from_peer_id: fromPeerId, offer });
}

export function meshAnswerFrame(fromPeerId: string, answer: JsonValue): string {
  return JSON.stringify({ type: 'mesh_answer', from_peer_id: fromPeerId, answer });
}

export function iceCandidateFrame(fromPeerId: string, candidate: JsonValue): string {
  return JSON.stringify({ type: 'ice_candidate', from_peer_id: fromPeerId, candidate });
}

/**
 * offer / answer / candidate (and compat `error`): the received message itself, `sender` stamped
 * on it in place (it is not used again), so no copy is made per relay.
 */
export function webRtcFrame(msg: WebRtcMessage, fromPeerId: string): string {
  msg.sender = fromPeerId;
  return JSON.stringify(msg);
}

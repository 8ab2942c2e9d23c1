import type { ProtocolError } from './error-codes.js';
import type { Metadata, PeerLeftReason } from './messages.js';

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

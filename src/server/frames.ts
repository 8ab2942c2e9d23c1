import type { ProtocolError } from '../protocol/error-codes.js';
import type { PeerLeftReason } from '../protocol/messages.js';
import type { PeerRecord } from '../state/state-backend.js';

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

export function peerSummary(record: PeerRecord) {
  return {
    peer_id: record.peerId,
    role: record.role,
    metadata: record.metadata,
    connected_at: record.connectedAt,
  };
}

export function presenceFrame(type: 'peer_joined' | 'peer_updated', record: PeerRecord): string {
  return JSON.stringify({ type, peer_id: record.peerId, role: record.role, metadata: record.metadata });
}

export function peerLeftFrame(peerId: string, reason: PeerLeftReason): string {
  return JSON.stringify({ type: 'peer_left', peer_id: peerId, reason });
}

/**
 * What the server sends, as types (docs/protocol.md; the runtime schemas are in
 * src/protocol/schemas.ts). Type-only: this module has no code, so it costs a browser nothing.
 */
import type { ErrorCode } from '../protocol/error-codes.js';
import type { JsonObject, JsonValue } from '../protocol/json-value.js';
import type { PeerLeftReason } from '../protocol/messages.js';

export type { ErrorCode, JsonObject, JsonValue, PeerLeftReason };
export type {
  ClientMessage,
  DiscoverFilters,
  Metadata,
  RegisterMessage,
} from '../protocol/messages.js';

/** One entry of RTCConfiguration.iceServers. */
export interface IceServerInit {
  urls: string | string[];
  username?: string;
  credential?: string;
}

export interface RegisteredMessage {
  /** `registered_auth` when the server runs with `--compat sleap-rtc`. */
  type: 'registered' | 'registered_auth';
  peer_id: string;
  room_id: string;
  role: string;
  token: string | null;
  session_token: string;
  admin_peer_id: string | null;
  peer_list: string[];
  peer_metadata: Record<string, JsonObject>;
  /** STUN/TURN servers for RTCPeerConnection (TURN credentials minted for this peer, when configured). */
  ice_servers: IceServerInit[];
  mesh_ice_servers: IceServerInit[];
  server_id: string;
}

export interface PeerSummary {
  peer_id: string;
  role: string;
  metadata: JsonObject;
  /** Unix seconds, millisecond precision. */
  connected_at: number;
}

export interface PeerListMessage {
  type: 'peer_list';
  peers: PeerSummary[];
  count: number;
}

export interface MetadataUpdatedMessage {
  type: 'metadata_updated';
  peer_id: string;
  metadata: JsonObject;
}

export interface PeerMessageReceived {
  type: 'peer_message';
  from_peer_id: string;
  to_peer_id: string;
  payload: JsonValue;
}

/** offer / answer / candidate (and, in compat mode, error) as the sender sent it, `sender` stamped. */
export interface RelayedMessage<T extends 'offer' | 'answer' | 'candidate' | 'error' = 'offer' | 'answer' | 'candidate'> {
  type: T;
  target: string;
  sender: string;
  [field: string]: JsonValue | undefined;
}

export interface MeshOfferMessage {
  type: 'mesh_offer';
  from_peer_id: string;
  offer: JsonValue;
}
export interface MeshAnswerMessage {
  type: 'mesh_answer';
  from_peer_id: string;
  answer: JsonValue;
}
export interface IceCandidateMessage {
  type: 'ice_candidate';
  from_peer_id: string;
  candidate: JsonValue;
}

export interface PresenceMessage {
  type: 'peer_joined' | 'peer_updated';
  peer_id: string;
  role: string;
  metadata: JsonObject;
}
export interface PeerLeftMessage {
  type: 'peer_left';
  peer_id: string;
  reason: PeerLeftReason;
}

export interface LeftMessage {
  type: 'left';
  peer_id: string;
  room_id: string;
}

export interface AdminConflictMessage {
  type: 'admin_conflict';
  room_id: string;
  current_admin: string;
}

export interface ErrorMessage {
  type: 'error';
  code: ErrorCode;
  message: string;
  reason: string;
  /** The `type` of the message that failed (absent for INVALID_JSON and RATE_LIMITED). */
  request_type?: string;
}

export type ServerMessage =
  | RegisteredMessage
  | PeerListMessage
  | MetadataUpdatedMessage
  | PeerMessageReceived
  | RelayedMessage<'offer' | 'answer' | 'candidate' | 'error'>
  | MeshOfferMessage
  | MeshAnswerMessage
  | IceCandidateMessage
  | PresenceMessage
  | PeerLeftMessage
  | LeftMessage
  | AdminConflictMessage
  | ErrorMessage
  | { type: 'pong' }
  | { type: 'ping' };

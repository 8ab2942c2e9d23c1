import type { JsonObject, JsonValue } from './json-value.js';

/** Metadata as stored: `tags` and `properties` by convention, other keys kept. */
export type Metadata = JsonObject;

interface Identity {
  from_peer_id?: string | null;
  sender?: string | null;
  peer_id?: string | null;
}

export interface RegisterMessage {
  type: 'register';
  room_id?: string | null;
  peer_id?: string | null;
  role?: string | null;
  metadata?: Metadata | null;
  jwt?: string | null;
  id_token?: string | null;
  api_key?: string | null;
  token?: string | null;
  is_admin?: boolean | null;
  session_token?: string | null;
  presence?: boolean | null;
}

export interface DiscoverFilters {
  role?: string | null;
  tags?: string[] | null;
  properties?: JsonObject | null;
}

export interface DiscoverMessage extends Identity {
  type: 'discover_peers';
  filters?: DiscoverFilters | null;
}
export interface UpdateMetadataMessage extends Identity {
  type: 'update_metadata';
  metadata: Metadata;
}
export interface PeerMessage extends Identity {
  type: 'peer_message';
  to_peer_id: string;
  payload: JsonValue;
}
/** offer / answer / candidate (and compat `error`): passed through with `sender` stamped. */
export interface WebRtcMessage extends Identity {
  type: 'offer' | 'answer' | 'candidate' | 'error';
  target: string;
  [field: string]: JsonValue | undefined;
}
export interface MeshConnectMessage extends Identity {
  type: 'mesh_connect';
  target_peer_id: string;
  offer: JsonValue;
}
export interface MeshAnswerMessage extends Identity {
  type: 'mesh_answer';
  target_peer_id: string;
  answer: JsonValue;
}
export interface IceCandidateMessage extends Identity {
  type: 'ice_candidate';
  target_peer_id: string;
  candidate: JsonValue;
}
export interface PingMessage {
  type: 'ping';
}
export interface LeaveMessage extends Identity {
  type: 'leave';
}

export type ClientMessage =
  | RegisterMessage
  | DiscoverMessage
  | UpdateMetadataMessage
  | PeerMessage
  | WebRtcMessage
  | MeshConnectMessage
  | MeshAnswerMessage
  | IceCandidateMessage
  | PingMessage
  | LeaveMessage;

export type PeerLeftReason = 'left' | 'timeout' | 'server_lost' | 'server_shutdown' | 'kicked';

import type { Metadata, PeerLeftReason } from '../protocol/messages.js';

/** One registered peer as shared state holds it. */
export interface PeerRecord {
  readonly peerId: string;
  readonly roomId: string;
  readonly role: string;
  readonly metadata: Metadata;
  /** Unix time in seconds, with a fraction. */
  readonly connectedAt: number;
  /** The instance holding the peer's WebSocket. */
  readonly serverId: string;
  /** The connection on that instance; guards against a stale close removing a newer owner. */
  readonly connectionId: string;
  /**
   * Secret that lets a new connection take this peer id over. Set in what register returns;
   * records read back from shared state (getPeer, listRoom, unregister) may carry '' instead:
   * shared state need not keep it (Redis keeps only its hash).
   */
  readonly sessionToken: string;
  /** Authenticated subject (JWT `sub` or API key id), null without authentication. */
  readonly subject: string | null;
  /** Whether this peer receives presence events. */
  readonly presence: boolean;
}

/** A room created ahead of use (`--rooms token`): only a hash of its token is kept. */
export interface RoomRecord {
  readonly roomId: string;
  readonly tokenHash: string;
  /** Unix ms. */
  readonly createdAt: number;
  /** Unix ms; the record is gone after it. */
  readonly expiresAt: number;
  /** The credential subject that created the room; null when the operator (or anyone, with authentication off) did. */
  readonly createdBy: string | null;
}

/** An API key (`slp_<id>_<secret>`) bound to a room; only a hash of the secret is kept. */
export interface ApiKeyRecord {
  readonly id: string;
  readonly hash: string;
  readonly roomId: string;
  readonly name: string;
  /** Unix ms. */
  readonly createdAt: number;
  /** Unix ms, or null for no expiry. */
  readonly expiresAt: number | null;
  /** Unix ms when revoked, or null. */
  readonly revokedAt: number | null;
  /**
   * The subject that had created the key's room when the key was issued (null: the operator, or no
   * such room): while the key is live, only it or the operator may create that room id again.
   */
  readonly roomCreator: string | null;
}

/** A connection's registration as the server knows it locally. */
export interface RegistrationRef {
  readonly peerId: string;
  readonly roomId: string;
  readonly connectionId: string;
}

export interface RegisterRequest {
  /** The record wanted. `connectedAt` and `sessionToken` are fresh; the backend keeps the old ones in place. */
  readonly record: PeerRecord;
  /** The connection's current registration, when this is a re-registration. */
  readonly current: RegistrationRef | null;
  readonly wantAdmin: boolean;
  /** What may prove a takeover of a peer id held by another open connection. */
  readonly proof: { readonly sessionToken: string | null; readonly subject: string | null };
  /** Compat mode: the newest registration of a peer id wins without proof. */
  readonly newestWins: boolean;
  /** How long an authenticated subject keeps its peer id after its last registration (default 2 h). */
  readonly ownershipTtlMs?: number;
  readonly maxPeersPerRoom: number;
}

export type RegisterOutcome =
  | {
      readonly ok: true;
      /** The record as stored. */
      readonly record: PeerRecord;
      /** The record this peer id had before (in place, or taken over from another connection). */
      readonly prior: PeerRecord | null;
      /** The connection's previous registration under another peer id, now removed. */
      readonly vacated: PeerRecord | null;
      readonly adminPeerId: string | null;
      /** Set when the peer asked for the admin seat and someone else holds it. */
      readonly adminConflict: string | null;
      /** The other peers of the room, in discovery order. */
      readonly roomPeers: readonly PeerRecord[];
      /**
       * Whether another peer of the room subscribed to presence as of the join. When none had, the
       * join need not be announced: whoever subscribes later lists this peer in its `registered`.
       */
      readonly presenceAudience: boolean;
    }
  | { readonly ok: false; readonly code: 'PEER_ID_TAKEN' | 'ROOM_FULL' };

export type RouteResult = 'delivered' | 'not_found' | 'not_in_room';

/**
 * Who sent a relay. An instance that shared state routed a relay to, and that cannot deliver it
 * (the target's socket closed or was replaced meanwhile), answers the sender through this.
 */
export interface RelayOrigin {
  /** The sender's connection (`<serverId>:<n>`, so it names the sender's instance too). */
  readonly connectionId: string;
  /** The sender's message type, the `request_type` of the error it gets. */
  readonly requestType: string;
}

/** Why a routed relay was answered instead of delivered. */
export type RefusalReason = 'not_found' | 'not_in_room' | 'unavailable';

/** The instance a connection id belongs to: connection ids are `<serverId>:<n>`. */
export function serverOfConnection(connectionId: string): string {
  return connectionId.slice(0, connectionId.lastIndexOf(':'));
}

/** Instructions one instance sends another about a connection it holds. */
export type ControlMessage = {
  readonly kind: 'close';
  readonly peerId: string;
  readonly connectionId: string | null;
  readonly code: number;
  readonly reason: string;
  /** Set for an operator kick: the presence reason to announce. */
  readonly leftReason: 'kicked' | null;
};

/**
 * A frame as a client's socket gets it: text, or that text's UTF-8 bytes as they arrived from
 * another instance (sent as a text frame without decoding).
 */
export type OutboundFrame = string | Buffer;

/** What a backend calls on the server instance that attached to it. */
export interface BusSink {
  /**
   * Deliver a frame to a local peer of `roomId`. False when no open connection here holds the peer id in that room: the
   * backend then routes the relay once more or answers its sender. A frame for a peer whose
   * registration is in progress here is held until the registration ends; `refuse` is called if
   * it ends without the peer (true is returned then).
   */
  deliver(peerId: string, roomId: string, frame: OutboundFrame, refuse: () => void): boolean;
  /** A relay sent by one of this instance's connections could not be delivered where it was routed. */
  refused(origin: RelayOrigin, targetPeerId: string, reason: RefusalReason): void;
  /** Deliver a presence frame to local presence subscribers of a room. */
  presence(roomId: string, aboutConnectionId: string, frame: OutboundFrame): void;
  control(message: ControlMessage): void;
  /** Counts the instance reports in its heartbeat. */
  instanceStats(): InstanceStats;
}

export interface InstanceStats {
  readonly connections: number;
  readonly peers: number;
  /** Messages relayed to a target since the instance started. */
  readonly relayed: number;
}

/** How a backend reports its work to the server's metrics and logs. */
export interface BackendObserver {
  /** One Redis command or script issued. */
  operation(name: string): void;
  /** One Redis operation that failed. */
  failure(name: string, error: unknown): void;
  /** A bus message that reached this instance but could not be delivered (its peer is gone). */
  dropped(reason: string): void;
  /** Something an operator should know (outage, restore, reaping). */
  event(level: 'info' | 'warn' | 'error', message: string, fields?: Record<string, unknown>): void;
}

export const NULL_OBSERVER: BackendObserver = Object.freeze({
  operation() {},
  failure() {},
  dropped() {},
  event() {},
});

export interface InstanceInfo {
  readonly serverId: string;
  readonly host: string;
  readonly port: number;
  readonly version: string;
  readonly startedAt: number;
}

/** Peers in shared state: registration, leaves and updates, look-ups, operator removal. */
export interface PeerRegistry {
  register(request: RegisterRequest): Promise<RegisterOutcome>;
  /**
   * Removes the peer if `connectionId` still owns it; returns the removed record. Applied at
   * least locally even when shared state is unreachable (`reason` is announced when it is back).
   */
  unregister(peerId: string, connectionId: string, reason?: PeerLeftReason): Promise<PeerRecord | null>;
  /** Replaces role / metadata / presence of an owned record; false if no longer owned. */
  updatePeer(record: PeerRecord): Promise<boolean>;
  getPeer(peerId: string): Promise<PeerRecord | null>;
  /** The room's peers, in discovery order (a shared list: callers must not modify it). */
  listRoom(roomId: string): Promise<readonly PeerRecord[]>;
  /**
   * Operator removal: takes a peer out of shared state wherever it is held, if `connectionId` still
   * holds it; returns the removed record. The instance holding the connection is told separately
   * (sendControl), and its own unregister then finds nothing left to announce.
   */
  removePeer(ref: RegistrationRef): Promise<PeerRecord | null>;
}

/** The bus between instances: relays, presence events and instructions. */
export interface StateBus {
  /**
   * Delivers a frame to a peer of `roomId` on whichever instance holds it. 'delivered' means it
   * was handed to that instance; if the instance then finds no open connection for the peer, it
   * routes the relay once more, and failing that answers the sender (BusSink.refused).
   */
  route(roomId: string, targetPeerId: string, frame: string, origin: RelayOrigin): Promise<RouteResult>;
  /** Sends a presence frame to the subscribers of a room on every instance, except the connection it is about. */
  publishPresence(roomId: string, aboutConnectionId: string, frame: string): Promise<void>;
  /** Sends an instruction to an instance; true when that instance heard it (false: it is gone). */
  sendControl(serverId: string, message: ControlMessage): Promise<boolean>;
}

/** Created rooms and API keys. */
export interface RecordStore {
  /**
   * Creates a room record, with its expiry, atomically; false if a live one exists already.
   * Rejects (writing nothing) when `expiresAt` is not a whole number of milliseconds.
   */
  createRoom(room: RoomRecord): Promise<boolean>;
  /** The room record, or null when there is none or it expired. */
  getRoom(roomId: string): Promise<RoomRecord | null>;
  /**
   * Deletes the room's record; once nobody is in the room, its other records go too (a peer
   * joining meanwhile keeps them). True when the room is gone entirely.
   */
  deleteRoom(roomId: string): Promise<boolean>;

  /** Stores a key (kept until a day after it expires). Rejects, writing nothing, for a fractional `expiresAt`. */
  putApiKey(key: ApiKeyRecord): Promise<void>;
  getApiKey(id: string): Promise<ApiKeyRecord | null>;
  /** Every stored key, revoked and recently expired ones included, oldest first. */
  listApiKeys(): Promise<ApiKeyRecord[]>;
  /** Marks a key revoked; false if there is no such key. */
  revokeApiKey(id: string, at: number): Promise<boolean>;
}

/** What the operator views read of the whole cluster. */
export interface ClusterRooms {
  /** Number of active rooms and their sizes, for metrics. */
  census(): Promise<RoomCensus>;
  /**
   * Every room with a peer, and every room created ahead of use whose record is live (peers or
   * not), in no particular order: for the operator views of a server (GET /admin/rooms).
   */
  listRooms(): Promise<RoomEntry[]>;
}

/**
 * Shared rooms and peers, and the bus between instances. The server reaches shared state only
 * through this interface (its parts are named so that code needing one part takes only that).
 * Methods reject with StateUnavailableError when the store is unreachable.
 */
export interface StateBackend extends PeerRegistry, StateBus, RecordStore, ClusterRooms {
  readonly kind: 'memory' | 'redis';
  start(instance: InstanceInfo, sink: BusSink, observer?: BackendObserver): Promise<void>;
  stop(): Promise<void>;
  /** Whether shared state is reachable now. */
  healthy(): boolean;
}

/** A room as listRooms reports it. */
export interface RoomEntry {
  readonly roomId: string;
  /** Its peers, in discovery order (none for a created room nobody is in). */
  readonly peers: readonly PeerRecord[];
  /** The peer in the admin seat, or null. */
  readonly admin: string | null;
  /** Unix ms when the room began (its first join, or its creation); null when not kept. */
  readonly createdAt: number | null;
  /** Unix ms of its last join or leave (or its creation); null when not kept. */
  readonly lastUsed: number | null;
  /** The times of its record when it was created ahead of use (`--rooms token`): never its token hash. */
  readonly createdRoom: { readonly createdAt: number; readonly expiresAt: number } | null;
}

export interface RoomCensus {
  readonly rooms: number;
  readonly sizes: Iterable<number>;
}

export const DEFAULT_OWNERSHIP_TTL_MS = 2 * 3_600_000;

/** Discovery order: connected_at, then peer_id by code unit. */
export function discoveryOrder(a: PeerRecord, b: PeerRecord): number {
  if (a.connectedAt !== b.connectedAt) return a.connectedAt - b.connectedAt;
  return a.peerId < b.peerId ? -1 : a.peerId > b.peerId ? 1 : 0;
}

import type { RoomShown } from './json-input.js';
import type { RoomFilter } from '../admin/json-output.js';
import type { KickResult, RoomDeleteResult } from '../admin/peer-removal.js';
import type { ClusterStats, ListRoomsOptions, PeerDetail, RoomListing, ServerView } from '../admin/views.js';

/** What one read gives: the view the table is drawn from, its `-o json` document, and the time of the read. */
export interface Shown<V> {
  readonly view: V;
  readonly document: object;
  /** Unix ms when the view was read: durations (age, connected for) are counted to it. */
  readonly now: number;
}

/**
 * Where the operator commands read and act: the shared Redis (RedisSource), or a running server's
 * operator endpoints (HttpSource). Either gives the same views and the same documents. A room or
 * peer that does not exist is a NotFoundError.
 */
export interface InspectSource {
  /** `emptyPrefix`: the key prefix read, when an empty listing may mean a wrong --prefix. */
  rooms(options: ListRoomsOptions): Promise<Shown<RoomListing> & { readonly emptyPrefix: string | null }>;
  room(roomId: string, filter: RoomFilter): Promise<Shown<RoomShown>>;
  peer(peerId: string): Promise<Shown<PeerDetail>>;
  servers(): Promise<Shown<readonly ServerView[]>>;
  stats(): Promise<Shown<ClusterStats>>;
  kick(peerId: string, reason: string): Promise<KickResult>;
  deleteRoom(roomId: string, reason: string): Promise<RoomDeleteResult>;
  /** Why a redraw cannot be read now (a lost connection, being re-established), or null. */
  notReady(): string | null;
  close(): Promise<void>;
}

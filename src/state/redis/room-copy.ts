import { discoveryOrder, type PeerRecord } from '../state-backend.js';
import type { RedisCore } from './redis-core.js';
import type { JoinReply, PeerChange, RoomListing } from './scripts.js';

/** Rooms whose parsed peer lists an instance keeps (oldest dropped first). */
const ROOM_CACHE_SIZE = 1000;

interface RoomCopy {
  readonly version: string;
  readonly peers: PeerRecord[];
  readonly bytes: number;
  /** The peers by id, made on the first look-up (relays). */
  byId?: Map<string, PeerRecord>;
}

/**
 * This instance's copies of rooms: parsed peer lists with the room version they reflect, bounded
 * in count and bytes. A discovery of an unchanged room costs one small script call and no parsing,
 * and a join that finds the room at the version this instance expected gets no listing back: it is
 * applied to the copy here.
 */
export class RoomCopies {
  private readonly copies = new Map<string, RoomCopy>();
  private totalBytes = 0;
  /** Each parsed or written record's JSON length, which the copies are bounded by. */
  private readonly recordBytes = new WeakMap<PeerRecord, number>();
  /** Joins sent to Redis and not yet answered, by room (see expectedVersion). */
  private readonly joinsInFlight = new Map<string, number>();
  /** Rooms without a copy whose first join (which brings the whole room) is on its way. */
  private readonly fetching = new Map<string, Promise<void>>();

  constructor(private readonly core: RedisCore) {}

  /** What the copies hold (for metrics and tests). */
  size(): { rooms: number; bytes: number } {
    return { rooms: this.copies.size, bytes: this.totalBytes };
  }

  /**
   * The connection this instance's copy names for a peer of the room, or null (no copy, or not in
   * it). The copy may be stale: whoever uses it must cope with a peer that moved or left.
   */
  connectionOf(roomId: string, peerId: string): string | null {
    const copy = this.copies.get(roomId);
    if (copy === undefined) return null;
    copy.byId ??= new Map(copy.peers.map((p) => [p.peerId, p]));
    return copy.byId.get(peerId)?.connectionId ?? null;
  }

  /** Whether this instance holds a copy of the room, current or not. */
  has(roomId: string): boolean {
    return this.copies.has(roomId);
  }

  /** A record about to be written, as JSON; its length counts toward the copy it lands in. */
  written(record: PeerRecord, json: string): string {
    this.recordBytes.set(record, json.length);
    return json;
  }

  /**
   * The room's peers in discovery order: from the copy while the room is unchanged, the copy moved
   * on by the peers changed since it when Redis still knows them, else the whole room.
   */
  async list(roomId: string): Promise<readonly PeerRecord[]> {
    const { keys, runner, scripts, cmd } = this.core;
    const cached = this.copies.get(roomId);
    const reply = await runner.run('list_room', () => scripts.listRoom(keys.room(roomId), cached?.version ?? ''));
    if (reply.kind === 'unversioned') {
      // No version (a room without meta): nothing to keep a copy against.
      this.drop(roomId);
      return (await runner.run('hvals', () => cmd.hvals(keys.roomPeers(roomId)))).map((r) => JSON.parse(r) as PeerRecord).sort(discoveryOrder);
    }
    if (reply.kind === 'same' && cached) return cached.peers;
    // The copy as it is now: join replies read meanwhile may have moved it on.
    const current = this.copies.get(roomId);
    let peers: PeerRecord[];
    if (reply.kind === 'changes' && current !== undefined) peers = this.applied(current.peers, reply.changes);
    else if (reply.kind === 'full') peers = reply.records.map((r) => this.parse(r)).sort(discoveryOrder);
    else {
      // The copy went meanwhile: ask again for the whole room.
      this.drop(roomId);
      return this.list(roomId);
    }
    this.keep(roomId, reply.version, peers);
    return peers;
  }

  /**
   * Sends a join naming the room version this instance expects, and on success moves the copy on
   * in the same synchronous stretch as the in-flight count drops (no other join may see the count
   * dropped before the copy has moved on). `others`: the room's other peers, null when the join
   * did not happen or the copy was lost meanwhile.
   */
  async join(
    name: string,
    roomId: string,
    record: PeerRecord,
    vacatedInRoom: string,
    send: (expectedVersion: string, heldVersion: string) => Promise<JoinReply | null>,
  ): Promise<{ reply: JoinReply | null; others: PeerRecord[] | null }> {
    // Without a copy of the room, one join at a time asks for the whole room: the others wait for
    // its answer (the copy), then name its version and get only what changed since.
    for (let pending = this.awaitedFetch(roomId); pending !== undefined; pending = this.awaitedFetch(roomId)) await pending;
    let fetched: (() => void) | null = null;
    if (!this.copies.has(roomId) && !this.fetching.has(roomId)) {
      this.fetching.set(roomId, new Promise<void>((resolve) => (fetched = resolve)));
    }
    const expected = this.expectedVersion(roomId);
    const held = this.copies.get(roomId)?.version ?? '';
    this.joinsInFlight.set(roomId, (this.joinsInFlight.get(roomId) ?? 0) + 1);
    try {
      const reply = await this.core.runner.run(name, () => send(expected, held));
      this.joinAnswered(roomId);
      const others = reply?.joined ? this.afterJoin(roomId, record, vacatedInRoom, reply.version, reply.listing) : null;
      return { reply, others };
    } catch (err) {
      this.joinAnswered(roomId);
      // The join may have run without its reply reaching the copy; later joins' changes start
      // after it (an ordered caller's, see changes-since.lua), so the copy would stay without them.
      this.drop(roomId);
      throw err;
    } finally {
      if (fetched !== null) {
        this.fetching.delete(roomId);
        (fetched as () => void)();
      }
    }
  }

  /** The whole-room fetch a join without a copy must wait for, if one is on its way. */
  private awaitedFetch(roomId: string): Promise<void> | undefined {
    return this.copies.has(roomId) ? undefined : this.fetching.get(roomId);
  }

  /** A change this instance made (a leave): the copy is stale. */
  drop(roomId: string): void {
    const cached = this.copies.get(roomId);
    if (cached === undefined) return;
    this.copies.delete(roomId);
    this.totalBytes -= cached.bytes;
  }

  /**
   * The version a room will be at when this instance's join reaches Redis, if nobody else changes
   * it meanwhile: the copy's, plus one for each join of this instance already on its way. Commands
   * on one connection run in the order sent and their replies come back in that order, so the joins
   * ahead of this one will have been applied to the copy by the time its reply is read.
   */
  private expectedVersion(roomId: string): string {
    const cached = this.copies.get(roomId);
    if (!cached) return '';
    const epoch = roomOf(cached.version);
    return `${epoch}:${Number(cached.version.slice(epoch.length + 1)) + (this.joinsInFlight.get(roomId) ?? 0)}`;
  }

  private joinAnswered(roomId: string): void {
    const left = this.joinsInFlight.get(roomId)! - 1;
    if (left === 0) this.joinsInFlight.delete(roomId);
    else this.joinsInFlight.set(roomId, left);
  }

  /**
   * The room's other peers after a join, in discovery order, leaving the copy at the new version.
   * Null when the copy the join was applied against has gone meanwhile (evicted, or a reply out of
   * the expected order).
   */
  private afterJoin(roomId: string, record: PeerRecord, vacatedInRoom: string, version: string, listing: RoomListing): PeerRecord[] | null {
    const cached = this.copies.get(roomId);
    let others: PeerRecord[];
    if (listing.kind === 'same' || listing.kind === 'changes') {
      // 'changes' are those since the copy held when the join was sent; the copy may have moved on
      // since (a change applied twice leaves the same state), but it must be of the same room.
      if (!cached || (listing.kind === 'same' ? cached.version !== listing.versionBefore : roomOf(cached.version) !== roomOf(version))) {
        this.drop(roomId);
        return null;
      }
      const base = listing.kind === 'same' ? cached.peers : this.applied(cached.peers, listing.changes);
      others = base.filter((p) => p.peerId !== record.peerId && p.peerId !== vacatedInRoom);
    } else {
      others = [];
      for (const p of listing.peers) if (p.peerId !== record.peerId) others.push(this.parse(p.recordJson));
      others.sort(discoveryOrder);
    }
    const peers = [...others];
    let at = peers.length;
    while (at > 0 && discoveryOrder(peers[at - 1]!, record) > 0) at--;
    peers.splice(at, 0, record);
    this.keep(roomId, version, peers);
    return others;
  }

  /** A copy's peers with the changes applied, in discovery order (a new list: copies are shared). */
  private applied(peers: readonly PeerRecord[], changes: readonly PeerChange[]): PeerRecord[] {
    if (changes.length === 0) return [...peers];
    const byId = new Map<string, PeerRecord>();
    for (const p of peers) byId.set(p.peerId, p);
    for (const c of changes) {
      if (c.recordJson === null) byId.delete(c.peerId);
      else byId.set(c.peerId, this.parse(c.recordJson));
    }
    return [...byId.values()].sort(discoveryOrder);
  }

  /** Keeps a room's copy within the count and byte bounds (an empty room keeps none). */
  private keep(roomId: string, version: string, peers: PeerRecord[]): void {
    this.drop(roomId);
    if (peers.length === 0) return;
    let bytes = 0;
    for (const p of peers) bytes += this.recordBytes.get(p) ?? 0;
    const budget = this.core.options.roomCopyBytes;
    if (bytes > budget) return;
    while (this.copies.size >= ROOM_CACHE_SIZE || this.totalBytes + bytes > budget) this.drop(this.copies.keys().next().value!);
    this.copies.set(roomId, { version, peers, bytes });
    this.totalBytes += bytes;
  }

  private parse(json: string): PeerRecord {
    const record = JSON.parse(json) as PeerRecord;
    this.recordBytes.set(record, json.length);
    return record;
  }
}

/** The life of the room a version belongs to: its epoch part (a room of the same id made later differs). */
function roomOf(version: string): string {
  return version.slice(0, version.lastIndexOf(':'));
}

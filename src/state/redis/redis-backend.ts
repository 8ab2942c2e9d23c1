import type { Cluster, Redis } from 'ioredis';
import { createClients, serverMajorVersion, type RedisClient } from './redis-client.js';
import { ShardSubscriber } from './shard-subscriber.js';
import { StateUnavailableError } from '../../protocol/error-codes.js';
import type { PeerLeftReason } from '../../protocol/messages.js';
import {
  DEFAULT_OWNERSHIP_TTL_MS,
  discoveryOrder,
  NULL_OBSERVER,
  type BackendObserver,
  type BusSink,
  type ControlMessage,
  type InstanceInfo,
  type PeerRecord,
  type RegisterOutcome,
  type RegisterRequest,
  type RoomCensus,
  type RoomEntry,
  type ApiKeyRecord,
  type RoomRecord,
  type RefusalReason,
  type RelayOrigin,
  type RouteResult,
  serverOfConnection,
  type StateBackend,
} from '../state-backend.js';
import {
  PROBE_ENVELOPE,
  controlEnvelope,
  decodeEnvelope,
  deliverEnvelope,
  presenceEnvelope,
  refusedEnvelope,
  splitBusMessage,
  type RoutedRelay,
} from './bus-envelope.js';
import { InstanceRegistry } from './instance-registry.js';
import { KeySpace } from './key-space.js';
import { SCRIPTS } from './scripts.js';
import { redactUrl } from '../../net/redact-url.js';
import { sessionHash, storedRecordJson } from './stored-record.js';
import { CREATE_ROOM_LUA } from './room-scripts.js';
import { parseApiKeyRecord } from './api-key-json.js';
import { requireWholeMs } from '../record-times.js';
import { peerLeftFrame, presenceFrame } from '../../protocol/frames.js';

import { DEFAULT_REDIS_OPTIONS, type RedisBackendOptions } from './redis-options.js';

export { DEFAULT_REDIS_OPTIONS, type RedisBackendOptions };

type Reply = (string | number | null)[];

/** Rooms whose parsed peer lists an instance keeps (oldest dropped first). */
const ROOM_CACHE_SIZE = 1000;

/** How long after its restore an instance waits before announcing presence events of an outage. */
const RESTORE_SETTLE_MS = 1500;

/** Presence events of an outage kept for the other instances, at most (the oldest go first). */
const MAX_HELD_PRESENCE = 10_000;
/** The scripts, as ioredis adds them to the client. */
interface ScriptCommands {
  sigClaim(...args: (string | number)[]): Promise<Reply>;
  sigUnclaim(...args: (string | number)[]): Promise<number>;
  sigRelease(...args: (string | number)[]): Promise<number>;
  sigJoin(...args: (string | number)[]): Promise<Reply>;
  sigRegisterFresh(...args: (string | number)[]): Promise<Reply>;
  sigLeave(...args: (string | number)[]): Promise<string | null>;
  sigUpdate(...args: (string | number)[]): Promise<number>;
  sigListRoom(...args: (string | number)[]): Promise<string[]>;
  sigRoute(...args: (string | number)[]): Promise<Reply>;
  sigPresence(...args: (string | number)[]): Promise<number>;
  sigRestore(...args: (string | number)[]): Promise<number>;
}

/** A relay waiting for its tick's routing call. */
interface PendingRoute {
  readonly targetPeerId: string;
  readonly envelope: string;
  readonly resolve: (reply: Reply) => void;
  readonly reject: (err: unknown) => void;
}

interface Owned {
  record: PeerRecord;
  admin: boolean;
}

/**
 * Shared state in Redis: rooms and peers in hashes, routing by a Lua script that looks the
 * target up and publishes to its instance's channel in one round trip, presence fanned out to
 * the instances that have subscribers, dead instances reaped, and each instance's own peers
 * written back after Redis comes back from an outage.
 */
export class RedisBackend implements StateBackend {
  readonly kind = 'redis' as const;
  readonly keys: KeySpace;
  readonly options: RedisBackendOptions;
  private readonly cmd: RedisClient;
  /** Standalone Redis: the dedicated subscriber connection. */
  private readonly sub: Redis | null;
  /** Redis Cluster: the subscription on the master of this instance's channel slot. */
  private shard: ShardSubscriber | null = null;
  /**
   * How deliveries travel: `script` publishes inside the routing script (one round trip; standalone
   * Redis, or a cluster older than 7 where PUBLISH is broadcast); `sharded` looks the target up, then
   * SPUBLISHes to the channel's shard (Redis Cluster 7+).
   */
  private busMode: 'script' | 'sharded' = 'script';
  private readonly scripts: ScriptCommands;
  private observer: BackendObserver = NULL_OBSERVER;
  private sink: BusSink | null = null;
  private instance: InstanceInfo | null = null;
  private registry: InstanceRegistry | null = null;
  /** Parsed room lists by room, with the room version they reflect (see listRoom). */
  private readonly roomCache = new Map<string, { version: string; peers: PeerRecord[]; bytes: number }>();
  private roomCacheBytes = 0;
  /** Each parsed or written record's JSON length, which the room copies are bounded by. */
  private readonly recordBytes = new WeakMap<PeerRecord, number>();
  /** Joins sent to Redis and not yet answered, by room (see expectedRoomVersion). */
  private readonly joinsInFlight = new Map<string, number>();
  /** This instance's registered peers: the local truth written back after an outage. */
  private readonly owned = new Map<string, Owned>();
  /** Peers that left while Redis was unreachable; removed and announced when it is back. */
  private readonly pendingLeaves = new Map<string, { record: PeerRecord; reason: PeerLeftReason }>();
  private lost = false;
  /** The next restore follows a lapsed heartbeat: peers it writes back are announced as joined. */
  private announceRestored = false;
  private restoring: Promise<void> | null = null;
  /** Relays waiting for this tick's routing calls, by room (see routeBatched). */
  private routeBatches = new Map<string, PendingRoute[]>();
  private routeFlushQueued = false;
  private stopped = false;

  constructor(options: Partial<RedisBackendOptions> & { url: string }) {
    this.options = { ...DEFAULT_REDIS_OPTIONS, ...options };
    this.keys = new KeySpace(this.options.prefix);
    const clients = createClients(this.options);
    this.cmd = clients.cmd;
    // A dedicated subscriber connection, whose handler only decodes and hands over.
    this.sub = clients.sub;
    for (const [name, def] of Object.entries(SCRIPTS)) this.cmd.defineCommand(name, def);
    this.scripts = this.cmd as unknown as ScriptCommands;
  }

  async start(instance: InstanceInfo, sink: BusSink, observer: BackendObserver = NULL_OBSERVER): Promise<void> {
    this.instance = instance;
    this.sink = sink;
    this.observer = observer;
    this.watch(this.cmd, 'command');
    if (this.sub) this.watch(this.sub, 'subscriber');
    const onMessage = (message: Buffer) => {
      const envelopes = splitBusMessage(message);
      if (envelopes === null) this.observer.dropped('bus_malformed');
      else for (const raw of envelopes) this.onBusMessage(raw);
    };
    try {
      await Promise.all([this.connect(this.cmd), this.sub ? this.connect(this.sub) : null]);
      const channel = this.keys.channel(instance.serverId);
      if (this.sub) {
        await this.sub.subscribe(channel);
        this.sub.on('messageBuffer', (_channel: Buffer, message: Buffer) => onMessage(message));
      } else {
        const major = await serverMajorVersion(this.cmd);
        this.busMode = major >= 7 ? 'sharded' : 'script';
        if (this.busMode === 'script') {
          observer.event('warn', `Redis ${major} has no sharded pub/sub: using classic pub/sub, broadcast over the whole cluster`);
        }
        this.shard = new ShardSubscriber(
          this.cmd as Cluster,
          channel,
          this.busMode === 'sharded',
          { connectTimeout: this.options.connectTimeoutMs },
          onMessage,
          (event) => {
            if (event === 'lost') {
              this.lost = true;
              observer.event('warn', 'Redis subscriber lost (cluster failover?); resubscribing');
            } else {
              this.scheduleRestore(0);
            }
          },
        );
        await this.shard.start(Date.now() + this.options.connectTimeoutMs);
      }
    } catch (err) {
      this.cmd.disconnect();
      this.sub?.disconnect();
      await this.shard?.stop();
      throw new StateUnavailableError(`cannot reach Redis at ${redactUrl(this.options.url)}: ${errorText(err)}`, { cause: err });
    }
    this.registry = new InstanceRegistry({
      redis: this.cmd,
      keys: this.keys,
      instance,
      reapAfterMs: this.options.reapAfterMs,
      roomTtlMs: this.options.roomTtlMs,
      stats: () => sink.instanceStats(),
      run: (name, fn) => this.run(name, fn),
      reapPeer: (peerId, connectionId) => this.reapPeer(peerId, connectionId),
      keepalive: () => this.keepalive(),
      isListening: (serverId) => this.isListening(serverId),
      onLapsed: () => {
        observer.event('warn', 'this instance\'s heartbeat had lapsed (taken for dead?): writing its peers back');
        this.announceRestored = true;
        this.scheduleRestore(0);
      },
      observer,
    });
    await this.registry.beat();
    this.registry.start();
  }

  /** Refreshes this instance's heartbeat now (its timer does so every third of `reapAfterMs`). */
  async heartbeat(): Promise<void> {
    await this.registry?.beat();
  }

  /** Connects for tools (keys, rooms) that use the store without being an instance. */
  async open(): Promise<void> {
    this.cmd.on('error', () => {});
    try {
      await this.connect(this.cmd);
    } catch (err) {
      this.cmd.disconnect();
      throw new StateUnavailableError(`cannot reach Redis at ${redactUrl(this.options.url)}: ${errorText(err)}`, { cause: err });
    }
  }

  async close(): Promise<void> {
    await this.cmd.quit().catch(() => {});
    this.cmd.disconnect();
    this.sub?.disconnect();
  }

  async stop(): Promise<void> {
    if (this.stopped) return;
    const reachable = this.healthy();
    this.stopped = true;
    this.registry?.stop();
    if (this.restoreTimer) clearTimeout(this.restoreTimer);
    if (this.presenceFlush) clearTimeout(this.presenceFlush);
    if (reachable) {
      for (const { record } of [...this.owned.values()]) await this.unregister(record.peerId, record.connectionId).catch(() => {});
      await this.registry?.deregister().catch(() => {});
    }
    await Promise.allSettled([this.sub?.quit(), this.shard?.stop(), this.cmd.quit()]);
    this.sub?.disconnect();
    this.cmd.disconnect();
  }

  healthy(): boolean {
    return !this.stopped && this.cmd.status === 'ready' && this.subscriberStatus === 'ready' && this.restoring === null;
  }

  private get subscriberStatus(): string {
    return this.sub?.status ?? this.shard?.status ?? 'end';
  }

  async register(request: RegisterRequest): Promise<RegisterOutcome> {
    // A standalone Redis takes a connection's first registration under a free id in one call.
    if (this.sub !== null && request.current === null) {
      const outcome = await this.registerFresh(request);
      if (outcome !== null) return outcome;
    }
    const { keys, scripts } = this;
    const wanted = request.record;
    const { peerId, roomId, connectionId } = wanted;
    const ttl = this.roomTtlSeconds;
    const proofHash = sessionHash(request.proof.sessionToken);
    const newHash = sessionHash(wanted.sessionToken);
    const claim = await this.run('claim', () =>
      scripts.sigClaim(
        keys.peer(peerId),
        keys.peerOwner(peerId),
        connectionId,
        roomId,
        proofHash,
        request.proof.subject ?? '',
        request.newestWins ? '1' : '0',
        newHash,
        String(wanted.connectedAt),
        wanted.subject ?? '',
        ttl,
        request.ownershipTtlMs ?? DEFAULT_OWNERSHIP_TTL_MS,
      ),
    );
    const current = request.current;
    if (claim[0] === 'TAKEN') {
      // ROOM_FULL precedes PEER_ID_TAKEN when both apply.
      const size = await this.run('hlen', () => this.cmd.hlen(keys.roomPeers(roomId)));
      const own = current && current.roomId === roomId ? 1 : 0;
      return { ok: false, code: size - own >= request.maxPeersPerRoom ? 'ROOM_FULL' : 'PEER_ID_TAKEN' };
    }
    const [, session, at, priorConn, priorRoom, priorSession, priorSubject, priorAt] = claim.map((v) => String(v ?? ''));
    // Redis returns the hash it kept: the new token's, the proof's (a takeover proved with it), or
    // this connection's own (a registration in place, whose token this instance holds).
    const sessionToken = session === newHash ? wanted.sessionToken : session === proofHash ? request.proof.sessionToken! : (this.owned.get(peerId)?.record.sessionToken ?? wanted.sessionToken);
    const record: PeerRecord = { ...wanted, sessionToken, connectedAt: Number(at) };
    const vacatedId = current && current.peerId !== peerId ? current.peerId : null;
    const vacatedOwned = vacatedId !== null ? this.owned.get(vacatedId) : undefined;
    const vacatedInRoom = vacatedId !== null && current!.roomId === roomId ? vacatedId : '';
    const now = Date.now();
    const { joined, others } = await this.sendJoin('join', roomId, record, vacatedInRoom, (expected) =>
      scripts.sigJoin(...keys.room(roomId), ...this.joinArgs(request, record, vacatedInRoom, now, expected)),
    );
    if (joined[0] === 'FULL') {
      await this.run('unclaim', () =>
        scripts.sigUnclaim(keys.peer(peerId), connectionId, priorConn!, priorRoom!, priorSession!, priorSubject!, priorAt!),
      );
      return { ok: false, code: 'ROOM_FULL' };
    }
    const adminPeerId = (joined[1] as string) || null;
    const adminConflict = (joined[2] as string) || null;
    const previousHere = (joined[3] as string) || null;
    const roomPeers = others ?? (await this.othersIn(roomId, peerId));

    // Follow-up writes in other slots, in parallel: the old room of a move, the vacated id, indexes.
    const follow: Promise<unknown>[] = [this.touchRoom(roomId, now)];
    let prior: PeerRecord | null = previousHere ? (JSON.parse(previousHere) as PeerRecord) : null;
    if (priorConn && priorRoom !== roomId) {
      follow.push(
        this.leaveRoom(priorRoom!, peerId, priorConn!).then((rec) => {
          prior = rec;
        }),
      );
    }
    if (priorConn && priorConn !== connectionId) {
      const priorServer = serverOfConnection(priorConn!);
      if (priorServer !== this.serverId) follow.push(this.run('srem', () => this.cmd.srem(keys.serverPeers(priorServer), peerId)));
    }
    let vacated: PeerRecord | null = null;
    if (vacatedId !== null) {
      vacated = vacatedOwned?.record ?? null;
      if (!vacatedInRoom) follow.push(this.leaveRoom(current!.roomId, vacatedId, connectionId));
      follow.push(this.run('release', () => scripts.sigRelease(keys.peer(vacatedId), connectionId)));
      follow.push(this.run('srem', () => this.cmd.srem(keys.serverPeers(this.serverId), vacatedId)));
      this.owned.delete(vacatedId);
    }
    follow.push(this.run('sadd', () => this.cmd.sadd(keys.serverPeers(this.serverId), peerId)));
    await Promise.all(follow);
    this.owned.set(peerId, { record, admin: adminPeerId === peerId });
    return { ok: true, record, prior, vacated, adminPeerId, adminConflict, roomPeers, presenceAudience: Number(joined[5]) > 0 };
  }

  /** REGISTER_FRESH; null when the id is held or owned (then the two-call path decides). */
  private async registerFresh(request: RegisterRequest): Promise<RegisterOutcome | null> {
    const { keys } = this;
    const record = request.record;
    const { peerId, roomId, connectionId } = record;
    const now = Date.now();
    const { joined, others } = await this.sendJoin('register', roomId, record, '', (expected) =>
      this.scripts.sigRegisterFresh(
        keys.peer(peerId),
        keys.peerOwner(peerId),
        ...keys.room(roomId),
        keys.rooms,
        keys.serverPeers(this.serverId),
        connectionId,
        roomId,
        sessionHash(record.sessionToken),
        String(record.connectedAt),
        record.subject ?? '',
        this.roomTtlSeconds,
        request.ownershipTtlMs ?? DEFAULT_OWNERSHIP_TTL_MS,
        now,
        this.options.roomTtlMs,
        ...this.joinArgs(request, record, '', now, expected),
      ),
    );
    if (joined[0] === 'HELD') return null;
    if (joined[0] === 'FULL') return { ok: false, code: 'ROOM_FULL' };
    const adminPeerId = (joined[1] as string) || null;
    const adminConflict = (joined[2] as string) || null;
    const roomPeers = others ?? (await this.othersIn(roomId, peerId));
    this.owned.set(peerId, { record, admin: adminPeerId === peerId });
    return { ok: true, record, prior: null, vacated: null, adminPeerId, adminConflict, roomPeers, presenceAudience: Number(joined[5]) > 0 };
  }

  async unregister(peerId: string, connectionId: string, reason: PeerLeftReason = 'left'): Promise<PeerRecord | null> {
    const owned = this.owned.get(peerId);
    if (!owned || owned.record.connectionId !== connectionId) return null;
    this.owned.delete(peerId);
    const { record } = owned;
    if (!this.healthy()) {
      this.pendingLeaves.set(peerId, { record, reason });
      return record;
    }
    try {
      const [removed] = await Promise.all([
        this.leaveRoom(record.roomId, peerId, connectionId),
        this.run('release', () => this.scripts.sigRelease(this.keys.peer(peerId), connectionId)),
        this.run('srem', () => this.cmd.srem(this.keys.serverPeers(this.serverId), peerId)),
      ]);
      return removed;
    } catch {
      this.pendingLeaves.set(peerId, { record, reason });
      return record;
    }
  }

  async updatePeer(record: PeerRecord): Promise<boolean> {
    const owned = this.owned.get(record.peerId);
    if (!owned || owned.record.connectionId !== record.connectionId || owned.record.roomId !== record.roomId) return false;
    const ok = await this.run('update', () =>
      this.scripts.sigUpdate(
        this.keys.roomPeers(record.roomId),
        this.keys.roomRoutes(record.roomId),
        this.keys.roomMeta(record.roomId),
        record.peerId,
        record.connectionId,
        storedRecordJson(record),
      ),
    );
    if (ok === 1) owned.record = record;
    return ok === 1;
  }

  async getPeer(peerId: string): Promise<PeerRecord | null> {
    const roomId = await this.run('hget', () => this.cmd.hget(this.keys.peer(peerId), 'room'));
    if (!roomId) return null;
    const raw = await this.run('hget', () => this.cmd.hget(this.keys.roomPeers(roomId), peerId));
    return raw ? (JSON.parse(raw) as PeerRecord) : null;
  }

  /**
   * The version a room will be at when this instance's join reaches Redis, if nobody else changes
   * it meanwhile: the cached copy's, plus one for each join of this instance already on its way.
   * Commands on one connection run in the order sent and their replies come back in that order, so
   * the joins ahead of this one will have been applied to the copy by the time its reply is read.
   */
  private expectedRoomVersion(roomId: string): string {
    const cached = this.roomCache.get(roomId);
    if (!cached) return '';
    const colon = cached.version.lastIndexOf(':');
    return `${cached.version.slice(0, colon)}:${Number(cached.version.slice(colon + 1)) + (this.joinsInFlight.get(roomId) ?? 0)}`;
  }

  /**
   * The room's other peers after a join, in discovery order, leaving the room cache at the new
   * version. When the room was at the version this instance expected, Redis sent no listing: the
   * join is applied to the cached copy (no listing on the wire, no record parsed again). Null when
   * that copy has gone meanwhile (evicted, or a reply out of the expected order).
   */
  private roomAfterJoin(roomId: string, record: PeerRecord, vacatedInRoom: string, joined: Reply): PeerRecord[] | null {
    const version = String(joined[4]);
    let others: PeerRecord[];
    if (joined[6] === '0') {
      const cached = this.roomCache.get(roomId);
      if (!cached || cached.version !== joined[7]) {
        this.dropRoomCopy(roomId);
        return null;
      }
      others = cached.peers.filter((p) => p.peerId !== record.peerId && p.peerId !== vacatedInRoom);
    } else {
      others = [];
      for (let i = 8; i < joined.length; i += 2) {
        if (joined[i - 1] !== record.peerId) others.push(this.parseRecord(joined[i] as string));
      }
      others.sort(discoveryOrder);
    }
    const peers = [...others];
    let at = peers.length;
    while (at > 0 && discoveryOrder(peers[at - 1]!, record) > 0) at--;
    peers.splice(at, 0, record);
    this.cacheRoom(roomId, version, peers);
    return others;
  }

  /** JOIN's arguments after its four keys (REGISTER_FRESH ends with the same ten). */
  private joinArgs(request: RegisterRequest, record: PeerRecord, vacatedInRoom: string, now: number, expected: string): (string | number)[] {
    const json = storedRecordJson(record);
    this.recordBytes.set(record, json.length);
    return [
      record.peerId,
      json,
      record.connectionId,
      record.presence ? '1' : '0',
      request.maxPeersPerRoom,
      request.wantAdmin ? '1' : '0',
      vacatedInRoom,
      now,
      this.roomTtlSeconds,
      expected,
    ];
  }

  /**
   * Sends a join naming the room version this instance expects, and on success moves the cached
   * copy on in the same synchronous stretch as the in-flight count drops (no other join may see the
   * count dropped before the copy has moved on). `others`: the room's other peers, null when the
   * join did not happen or the copy was lost meanwhile.
   */
  private async sendJoin(
    name: string,
    roomId: string,
    record: PeerRecord,
    vacatedInRoom: string,
    send: (expected: string) => Promise<Reply>,
  ): Promise<{ joined: Reply; others: PeerRecord[] | null }> {
    const expected = this.expectedRoomVersion(roomId);
    this.joinsInFlight.set(roomId, (this.joinsInFlight.get(roomId) ?? 0) + 1);
    let joined: Reply;
    try {
      joined = await this.run(name, () => send(expected));
    } finally {
      this.joinAnswered(roomId);
    }
    return { joined, others: joined[0] === 'OK' ? this.roomAfterJoin(roomId, record, vacatedInRoom, joined) : null };
  }

  private joinAnswered(roomId: string): void {
    const left = this.joinsInFlight.get(roomId)! - 1;
    if (left === 0) this.joinsInFlight.delete(roomId);
    else this.joinsInFlight.set(roomId, left);
  }

  private async othersIn(roomId: string, peerId: string): Promise<PeerRecord[]> {
    return (await this.listRoom(roomId)).filter((p) => p.peerId !== peerId);
  }

  /** Keeps a room's copy within the count and byte bounds (an empty room keeps none). */
  private cacheRoom(roomId: string, version: string, peers: PeerRecord[]): void {
    this.dropRoomCopy(roomId);
    if (peers.length === 0) return;
    let bytes = 0;
    for (const p of peers) bytes += this.recordBytes.get(p) ?? 0;
    const budget = this.options.roomCopyBytes;
    if (bytes > budget) return;
    while (this.roomCache.size >= ROOM_CACHE_SIZE || this.roomCacheBytes + bytes > budget) {
      this.dropRoomCopy(this.roomCache.keys().next().value!);
    }
    this.roomCache.set(roomId, { version, peers, bytes });
    this.roomCacheBytes += bytes;
  }

  private dropRoomCopy(roomId: string): void {
    const cached = this.roomCache.get(roomId);
    if (cached === undefined) return;
    this.roomCache.delete(roomId);
    this.roomCacheBytes -= cached.bytes;
  }

  /** What this instance's copies of rooms hold (for metrics and tests). */
  roomCopies(): { rooms: number; bytes: number } {
    return { rooms: this.roomCache.size, bytes: this.roomCacheBytes };
  }

  private parseRecord(json: string): PeerRecord {
    const record = JSON.parse(json) as PeerRecord;
    this.recordBytes.set(record, json.length);
    return record;
  }

  /**
   * The room's peers in discovery order. Parsed lists are cached per room with the room's version:
   * while nothing changed, a discovery costs one small script call and no parsing.
   */
  async listRoom(roomId: string): Promise<readonly PeerRecord[]> {
    const cached = this.roomCache.get(roomId);
    const reply = await this.run('list_room', () =>
      this.scripts.sigListRoom(this.keys.roomPeers(roomId), this.keys.roomMeta(roomId), cached?.version ?? ''),
    );
    const version = reply[0]!;
    if (cached && reply.length === 1 && version === cached.version) return cached.peers;
    if (version === '') {
      // No version (a room without meta): nothing to cache against.
      this.dropRoomCopy(roomId);
      return (await this.run('hvals', () => this.cmd.hvals(this.keys.roomPeers(roomId)))).map((r) => JSON.parse(r) as PeerRecord).sort(discoveryOrder);
    }
    const peers = reply.slice(1).map((r) => this.parseRecord(r)).sort(discoveryOrder);
    this.cacheRoom(roomId, version, peers);
    return peers;
  }

  route(roomId: string, targetPeerId: string, frame: string, origin: RelayOrigin): Promise<RouteResult> {
    return this.routeRelay({ peerId: targetPeerId, roomId, origin, reroutes: 0 }, frame);
  }

  private async routeRelay(relay: RoutedRelay, frame: string): Promise<RouteResult> {
    const { roomId, peerId: targetPeerId } = relay;
    const envelope = deliverEnvelope(relay, frame);
    const reply = this.busMode === 'script' ? await this.routeBatched(roomId, targetPeerId, envelope) : await this.routeSharded(roomId, targetPeerId, envelope);
    const receivers = Number(reply[0]);
    if (receivers > 0 || (receivers === 0 && !this.receiversCounted)) return 'delivered';
    if (receivers < 0) {
      const exists = await this.run('exists', () => this.cmd.exists(this.keys.peer(targetPeerId)));
      return exists ? 'not_in_room' : 'not_found';
    }
    // Nobody listens on that instance's channel: it is gone; clean its stale entry now. On a cluster a
    // subscriber also misses while its shard fails over: there, an instance whose heartbeat is still
    // fresh counts as alive and the sender is told to retry instead.
    const conn = String(reply[1]);
    if (this.busMode === 'sharded' && (await this.registry!.looksAlive(serverOfConnection(conn)))) {
      throw new StateUnavailableError('the target\'s instance is not receiving right now');
    }
    await this.reapPeer(targetPeerId, conn, roomId);
    return 'not_found';
  }

  async publishPresence(roomId: string, aboutConnectionId: string, frame: string): Promise<void> {
    const envelope = presenceEnvelope(roomId, aboutConnectionId, frame);
    // While events are held, later ones queue behind them: every instance hears a room's events in order.
    if (this.healthy() && this.heldPresence.length === 0) {
      try {
        await this.fanOutPresence(roomId, envelope, '');
        return;
      } catch (err) {
        if (!(err instanceof StateUnavailableError)) throw err;
      }
    }
    // Outage: this instance's subscribers hear it now; the other instances after the restore.
    this.sink?.presence(roomId, aboutConnectionId, frame);
    this.holdPresence(roomId, envelope);
  }

  private holdPresence(roomId: string, envelope: string): void {
    if (this.heldPresence.length >= MAX_HELD_PRESENCE) {
      this.heldPresence.shift();
      this.heldPresenceDropped++;
    }
    this.heldPresence.push({ roomId, envelope });
    // Reachable (a publish timed out, or events queue behind held ones): no restore will come to
    // send them, so a flush is scheduled here; unreachable, the restore schedules it.
    if (this.healthy()) this.announceHeldPresence();
  }

  /**
   * Tells the other instances the presence events held during an outage, in order. They restore
   * their own presence subscribers when they reconnect, which takes up to a second, so this waits
   * a moment after the restore: sent sooner, the events would reach nobody.
   */
  private announceHeldPresence(): void {
    if (this.heldPresence.length === 0 || this.presenceFlush !== null) return;
    this.presenceFlush = setTimeout(async () => {
      this.presenceFlush = null;
      if (this.stopped) return;
      const dropped = this.heldPresenceDropped;
      this.heldPresenceDropped = 0;
      if (dropped > 0) {
        this.observer.event('warn', `${dropped} presence events of the outage were not kept (more than ${MAX_HELD_PRESENCE}); watchers elsewhere should discover again`);
      }
      try {
        while (this.heldPresence.length > 0) {
          const { roomId, envelope } = this.heldPresence[0]!;
          await this.fanOutPresence(roomId, envelope, this.serverId);
          this.heldPresence.shift();
        }
      } catch {
        this.observer.event('warn', 'could not announce the presence events of the outage yet; retrying', { held: this.heldPresence.length });
        if (this.healthy()) this.announceHeldPresence();
      }
    }, RESTORE_SETTLE_MS);
    this.presenceFlush.unref();
  }

  /** Publishes once to every instance with presence subscribers in the room, but `skipServer`. */
  private async fanOutPresence(roomId: string, envelope: string, skipServer: string): Promise<void> {
    if (this.busMode === 'script') {
      await this.run('presence', () => this.scripts.sigPresence(this.keys.roomPresence(roomId), this.keys.channelPrefix, envelope, skipServer));
      return;
    }
    const conns = await this.run('presence', () => this.cmd.hvals(this.keys.roomPresence(roomId)));
    const servers = new Set(conns.map(serverOfConnection));
    servers.delete(skipServer);
    await Promise.all([...servers].map((s) => this.run('spublish', () => this.cmd.spublish(this.keys.channel(s), envelope))));
  }

  /**
   * Relays into one room within a tick go to Redis as one ROUTE call (one PUBLISH per target
   * instance). Each caller gets its own {receivers, conn} or {-1}.
   */
  private routeBatched(roomId: string, targetPeerId: string, envelope: string): Promise<Reply> {
    return new Promise((resolve, reject) => {
      let batch = this.routeBatches.get(roomId);
      if (batch === undefined) this.routeBatches.set(roomId, (batch = []));
      batch.push({ targetPeerId, envelope, resolve, reject });
      if (!this.routeFlushQueued) {
        this.routeFlushQueued = true;
        process.nextTick(this.flushRoutes);
      }
    });
  }

  private readonly flushRoutes = (): void => {
    this.routeFlushQueued = false;
    const batches = this.routeBatches;
    this.routeBatches = new Map();
    for (const [roomId, batch] of batches) {
      const args: string[] = [this.keys.roomRoutes(roomId), this.keys.channelPrefix];
      for (const r of batch) args.push(r.targetPeerId, r.envelope);
      this.run('route', () => this.scripts.sigRoute(...args)).then(
        (reply) => batch.forEach((r, i) => r.resolve(Number(reply[2 * i]) < 0 ? [-1] : [reply[2 * i]!, reply[2 * i + 1]!])),
        (err: unknown) => batch.forEach((r) => r.reject(err)),
      );
    }
  };

  /** Cluster 7+: look the target up in its room's slot, then publish to its instance's shard. */
  private async routeSharded(roomId: string, targetPeerId: string, envelope: string): Promise<Reply> {
    const conn = await this.run('route_lookup', () => this.cmd.hget(this.keys.roomRoutes(roomId), targetPeerId));
    if (conn === null) return [-1];
    const receivers = await this.run('spublish', () => this.cmd.spublish(this.keys.channel(serverOfConnection(conn)), envelope));
    return [Number(receivers), conn];
  }

  /**
   * Whether a publish reports its receivers: not on a cluster older than 7, where PUBLISH counts
   * only the subscribers of the node that took it.
   */
  private get receiversCounted(): boolean {
    return this.sub !== null || this.busMode === 'sharded';
  }

  /** Whether anyone listens on an instance's channel (a probe its instance ignores). */
  private async isListening(serverId: string): Promise<boolean> {
    if (!this.receiversCounted) return false;
    const channel = this.keys.channel(serverId);
    const receivers = await this.run('publish', () =>
      this.busMode === 'sharded' ? this.cmd.spublish(channel, PROBE_ENVELOPE) : this.cmd.publish(channel, PROBE_ENVELOPE),
    );
    return Number(receivers) > 0;
  }

  async sendControl(serverId: string, message: ControlMessage): Promise<void> {
    if (serverId === this.serverId) {
      this.sink?.control(message);
      return;
    }
    await this.publishTo(serverId, controlEnvelope(message));
  }

  /** One envelope to one instance's channel. */
  private async publishTo(serverId: string, envelope: string): Promise<void> {
    const channel = this.keys.channel(serverId);
    await this.run('publish', () => (this.busMode === 'sharded' ? this.cmd.spublish(channel, envelope) : this.cmd.publish(channel, envelope)));
  }

  async census(): Promise<RoomCensus> {
    const rooms = await this.run('census', () => this.cmd.zrevrange(this.keys.rooms, 0, 9_999));
    if (rooms.length === 0) return { rooms: 0, sizes: [] };
    const counts = await this.run('census', () => this.batch(rooms.map((r) => () => this.cmd.hlen(this.keys.roomPeers(r)))));
    const sizes = counts.filter((n) => n > 0);
    return { rooms: sizes.length, sizes };
  }

  async createRoom(room: RoomRecord): Promise<boolean> {
    requireWholeMs(room.expiresAt, 'room expiry');
    const key = this.keys.roomToken(room.roomId);
    const args = [room.tokenHash, String(room.createdAt), String(room.expiresAt), room.createdBy ?? '', String(Date.now())];
    const created = await this.run('create_room', () => this.cmd.eval(CREATE_ROOM_LUA, 1, key, ...args));
    if (Number(created) !== 1) return false;
    await this.touchRoom(room.roomId, Date.now());
    return true;
  }

  async getRoom(roomId: string): Promise<RoomRecord | null> {
    const raw = await this.run('get_room', () => this.cmd.hgetall(this.keys.roomToken(roomId)));
    if (!raw.token_hash) return null;
    const room: RoomRecord = {
      roomId,
      tokenHash: raw.token_hash,
      createdAt: Number(raw.created_at),
      expiresAt: Number(raw.expires_at),
      createdBy: raw.created_by ?? null,
    };
    return room.expiresAt > Date.now() ? room : null;
  }

  async deleteRoom(roomId: string): Promise<void> {
    await this.run('delete_room', () => this.cmd.del(this.keys.roomToken(roomId)));
  }

  async putApiKey(key: ApiKeyRecord): Promise<void> {
    if (key.expiresAt !== null) requireWholeMs(key.expiresAt, 'API key expiry');
    const keyName = this.keys.apiKey(key.id);
    await this.run('put_api_key', async () => {
      // Indexed first: an id whose record is missing is dropped from the index by listApiKeys.
      await this.cmd.sadd(this.keys.apiKeys, key.id);
      // The record and its expiry (a day after the key's, so that lists show it expired) together.
      const tx = this.cmd.multi().set(keyName, JSON.stringify(key));
      if (key.expiresAt !== null) tx.pexpireat(keyName, key.expiresAt + 86_400_000);
      const replies = await tx.exec();
      const failed = replies?.find(([err]) => err !== null);
      if (failed) throw failed[0];
    });
  }

  async getApiKey(id: string): Promise<ApiKeyRecord | null> {
    const raw = await this.run('get_api_key', () => this.cmd.get(this.keys.apiKey(id)));
    return raw ? parseApiKeyRecord(raw) : null;
  }

  async listApiKeys(): Promise<ApiKeyRecord[]> {
    const ids = await this.run('list_api_keys', () => this.cmd.smembers(this.keys.apiKeys));
    if (ids.length === 0) return [];
    const raws = await this.run('list_api_keys', () => this.batch(ids.map((id) => () => this.cmd.get(this.keys.apiKey(id)))));
    const gone = ids.filter((_, i) => !raws[i]);
    if (gone.length > 0) await this.run('list_api_keys', () => this.cmd.srem(this.keys.apiKeys, ...gone));
    return raws
      .filter((r): r is string => r !== null)
      .map(parseApiKeyRecord)
      .sort((a, b) => a.createdAt - b.createdAt);
  }

  async revokeApiKey(id: string, at: number): Promise<boolean> {
    const key = await this.getApiKey(id);
    if (!key) return false;
    await this.putApiKey({ ...key, revokedAt: key.revokedAt ?? at });
    return true;
  }

  // ---- internals

  private get serverId(): string {
    return this.instance!.serverId;
  }

  private get roomTtlSeconds(): number {
    return Math.max(1, Math.ceil(this.options.roomTtlMs / 1000));
  }

  /**
   * Every Redis call goes through here: counted, bounded in time (a command stuck in a cluster
   * failover must not hold a connection's queue forever), and failures become StateUnavailableError.
   */
  private async run<T>(name: string, fn: () => Promise<T>): Promise<T> {
    this.observer.operation(name);
    let timer: NodeJS.Timeout | undefined;
    try {
      return await Promise.race([
        fn(),
        new Promise<never>((_, reject) => {
          timer = setTimeout(() => reject(new Error(`timed out after ${this.operationTimeoutMs} ms`)), this.operationTimeoutMs);
        }),
      ]);
    } catch (err) {
      // The wrapper carries the reply's text only: ioredis errors hold the command's arguments
      // (session tokens, records), which must not reach a log.
      const unavailable = err instanceof StateUnavailableError ? err : new StateUnavailableError(`Redis ${name} failed: ${errorText(err)}`);
      this.observer.failure(name, unavailable);
      throw unavailable;
    } finally {
      clearTimeout(timer);
    }
  }

  private get operationTimeoutMs(): number {
    return this.options.commandTimeoutMs * 2;
  }

  private async leaveRoom(roomId: string, peerId: string, connectionId: string): Promise<PeerRecord | null> {
    const now = Date.now();
    const raw = await this.run('leave', () => this.scripts.sigLeave(...this.keys.room(roomId), peerId, connectionId, now, this.roomTtlSeconds));
    if (!raw) return null;
    // The leave moved the room's version on: the copy is stale, and a room everyone left keeps none.
    this.dropRoomCopy(roomId);
    // Only a real departure marks the room used (a room an operator deleted must not come back).
    await this.touchRoom(roomId, now);
    return JSON.parse(raw) as PeerRecord;
  }

  /** Marks a room used in the room index (which expires with the last use of any room). */
  private touchRoom(roomId: string, now: number): Promise<unknown> {
    return this.run('touch_room', () =>
      Promise.all([this.cmd.zadd(this.keys.rooms, now, roomId), this.cmd.pexpire(this.keys.rooms, this.options.roomTtlMs)]),
    );
  }

  /** Removes a peer whose instance is gone, and tells the room (`server_lost`). */
  private async reapPeer(peerId: string, connectionId: string, knownRoom?: string): Promise<void> {
    const roomId = knownRoom ?? (await this.run('hget', () => this.cmd.hget(this.keys.peer(peerId), 'room')));
    if (!roomId) return;
    const [removed] = await Promise.all([
      this.leaveRoom(roomId, peerId, connectionId),
      this.run('release', () => this.scripts.sigRelease(this.keys.peer(peerId), connectionId)),
      this.run('srem', () => this.cmd.srem(this.keys.serverPeers(serverOfConnection(connectionId)), peerId)),
    ]);
    if (removed) {
      this.observer.event('info', 'removed a peer of a lost instance', { peerId, roomId, connectionId });
      await this.publishPresence(roomId, connectionId, peerLeftFrame(peerId, 'server_lost'));
    }
  }

  /**
   * Removes peers that left during the outage from shared state (their leaves were announced as
   * presence events, held for the other instances: see announceHeldPresence).
   */
  private async flushPendingLeaves(): Promise<void> {
    for (const [peerId, pending] of [...this.pendingLeaves]) {
      const { record } = pending;
      await Promise.all([
        this.leaveRoom(record.roomId, peerId, record.connectionId),
        this.run('release', () => this.scripts.sigRelease(this.keys.peer(peerId), record.connectionId)),
        this.run('srem', () => this.cmd.srem(this.keys.serverPeers(this.serverId), peerId)),
      ]);
      this.pendingLeaves.delete(peerId);
    }
  }

  /** Refreshes the TTLs of this instance's peers and rooms, so nothing it holds expires. */
  private async keepalive(): Promise<void> {
    if (!this.healthy() || this.owned.size === 0) return;
    const ttl = this.roomTtlSeconds;
    const now = Date.now();
    const work: (() => Promise<unknown>)[] = [];
    const rooms = new Set<string>();
    for (const { record } of this.owned.values()) {
      work.push(() => this.cmd.expire(this.keys.peer(record.peerId), ttl));
      if (record.subject !== null) work.push(() => this.cmd.expire(this.keys.peerOwner(record.peerId), ttl));
      rooms.add(record.roomId);
    }
    for (const roomId of rooms) {
      for (const key of this.keys.room(roomId)) work.push(() => this.cmd.expire(key, ttl));
      work.push(() => this.cmd.zadd(this.keys.rooms, now, roomId));
    }
    await this.run('keepalive', () => this.batch(work));
  }

  private onBusMessage(raw: string): void {
    const envelope = decodeEnvelope(raw);
    const sink = this.sink;
    if (sink === null) return;
    if (envelope === null) {
      this.observer.dropped('bus_malformed');
      return;
    }
    switch (envelope.kind) {
      case 'deliver': {
        const { relay, frame } = envelope;
        const refuse = () => this.refuse(relay.origin, relay.peerId, 'not_found');
        if (!sink.deliver(relay.peerId, frame, refuse)) this.undeliverable(relay, frame);
        return;
      }
      case 'refused':
        sink.refused(envelope.origin, envelope.targetPeerId, envelope.reason);
        return;
      case 'presence':
        sink.presence(envelope.roomId, envelope.aboutConnectionId, envelope.frame);
        return;
      case 'control':
        sink.control(envelope.message);
        return;
      case 'probe':
    }
  }

  /**
   * A relay routed here whose peer has no open connection here (its socket closed, or it was taken
   * over by a connection elsewhere since the sender routed it). Shared state is asked once more
   * where the peer is; a second miss, or no such peer, is answered to the sender: never silence.
   */
  private undeliverable(relay: RoutedRelay, frame: string): void {
    if (relay.reroutes === 1) {
      this.observer.dropped('bus_target_gone');
      this.refuse(relay.origin, relay.peerId, 'not_found');
      return;
    }
    this.observer.dropped('bus_rerouted');
    this.routeRelay({ ...relay, reroutes: 1 }, frame).then(
      (result) => {
        if (result !== 'delivered') this.refuse(relay.origin, relay.peerId, result);
      },
      () => this.refuse(relay.origin, relay.peerId, 'unavailable'),
    );
  }

  /** Tells the sender's instance that its relay was not delivered. */
  private refuse(origin: RelayOrigin, targetPeerId: string, reason: RefusalReason): void {
    const serverId = serverOfConnection(origin.connectionId);
    if (serverId === this.serverId) {
      this.sink?.refused(origin, targetPeerId, reason);
      return;
    }
    this.publishTo(serverId, refusedEnvelope(origin, targetPeerId, reason)).catch(
      (err: unknown) => this.observer.event('warn', 'could not tell a sender that its relay was not delivered', { err, targetPeerId }),
    );
  }

  /** Runs commands in bounded parallel chunks (they pipeline on the wire; cluster-safe, unlike MULTI). */
  private async batch<T>(work: (() => Promise<T>)[], chunk = 1000): Promise<T[]> {
    const out: T[] = [];
    for (let i = 0; i < work.length; i += chunk) out.push(...(await Promise.all(work.slice(i, i + chunk).map((w) => w()))));
    return out;
  }

  /**
   * Connects and waits for the client to be ready. Readiness is read from the client's status too,
   * not only from connect()'s promise, which ioredis's Cluster sometimes leaves pending when it is
   * ready already.
   */
  private connect(client: RedisClient): Promise<void> {
    const timeoutMs = this.options.connectTimeoutMs;
    return new Promise<void>((resolve, reject) => {
      let lastError: unknown = null;
      const done = (err?: Error) => {
        clearInterval(poll);
        clearTimeout(timer);
        if (err) reject(err);
        else resolve();
      };
      const poll = setInterval(() => {
        if (client.status === 'ready') done();
      }, 25);
      const timer = setTimeout(
        () => done(new Error(`no connection within ${timeoutMs} ms${lastError ? ` (${errorText(lastError)})` : ''}`)),
        timeoutMs,
      );
      client.connect().then(
        () => done(),
        (err: unknown) => {
          lastError = err;
        },
      );
    });
  }

  private watch(client: RedisClient, role: string): void {
    let errorsLogged = 0;
    client.on('error', (err: Error) => {
      // ioredis retries on its own; say so once per outage, not once per attempt.
      if (errorsLogged++ === 0) this.observer.event('warn', `Redis ${role} connection error: ${err.message}`);
    });
    client.on('close', () => {
      if (this.stopped || this.lost) return;
      this.lost = true;
      this.observer.event('warn', `Redis ${role} connection lost; requests that need shared state get SERVICE_UNAVAILABLE`);
    });
    client.on('ready', () => {
      errorsLogged = 0;
      if (this.lost) this.scheduleRestore(0);
    });
    // Redis Cluster: a failover (a master gone, its replica promoted) may lose the latest writes
    // without the client ever closing; write this instance's peers back once the topology settles.
    client.on('-node', () => this.scheduleRestore(1000));
    client.on('+node', () => this.scheduleRestore(1000));
  }

  private restoreTimer: NodeJS.Timeout | null = null;
  /** Presence events of an outage, for the other instances (see publishPresence). */
  private readonly heldPresence: { readonly roomId: string; readonly envelope: string }[] = [];
  private heldPresenceDropped = 0;
  private presenceFlush: NodeJS.Timeout | null = null;

  private scheduleRestore(delayMs: number): void {
    // Before start() has finished there is nothing of this instance to restore.
    if (this.stopped || this.registry === null || this.restoreTimer !== null) return;
    this.restoreTimer = setTimeout(() => {
      this.restoreTimer = null;
      if (this.stopped || this.cmd.status !== 'ready' || this.subscriberStatus !== 'ready') {
        if (!this.stopped) this.scheduleRestore(500);
        return;
      }
      this.lost = false;
      this.restoring ??= this.restore().finally(() => {
        this.restoring = null;
      });
    }, delayMs);
    this.restoreTimer.unref();
  }

  /**
   * Redis is back (maybe empty): write this instance back, make shared state equal to the local
   * truth (live peers rewritten, peers that left meanwhile removed and announced).
   */
  private async restore(): Promise<void> {
    const started = Date.now();
    const announce = this.announceRestored;
    this.announceRestored = false;
    try {
      // A reaper at work on this instance: write back after it is done, or it would undo this.
      if (await this.run('exists', () => this.cmd.exists(this.keys.reapLock(this.serverId)))) {
        throw new StateUnavailableError('another instance is removing this instance\'s peers');
      }
      await this.registry!.beat();
      await this.flushPendingLeaves();
      const now = Date.now();
      const ttl = this.roomTtlSeconds;
      const rejoined: PeerRecord[] = [];
      for (const { record, admin } of this.owned.values()) {
        const peerKey = this.keys.peer(record.peerId);
        await this.run('restore', async () => {
          const [, , , , added] = await Promise.all([
            this.cmd.hset(peerKey, {
              conn: record.connectionId,
              room: record.roomId,
              session: sessionHash(record.sessionToken),
              subject: record.subject ?? '',
              at: String(record.connectedAt),
            }),
            this.cmd.expire(peerKey, ttl),
            this.cmd.sadd(this.keys.serverPeers(this.serverId), record.peerId),
            this.cmd.zadd(this.keys.rooms, now, record.roomId),
            this.scripts.sigRestore(...this.keys.room(record.roomId), record.peerId, storedRecordJson(record), record.connectionId, record.presence ? '1' : '0', admin ? '1' : '0', now, ttl),
          ]);
          if (Number(added) > 0) rejoined.push(record);
        });
      }
      // Peers that left while the restore ran.
      await this.flushPendingLeaves();
      // After a lapsed heartbeat the room may have been told these peers were lost: undo that.
      if (announce) {
        for (const record of rejoined) {
          if (this.owned.get(record.peerId)?.record === record) {
            await this.fanOutPresence(record.roomId, presenceEnvelope(record.roomId, record.connectionId, presenceFrame('peer_joined', record)), '');
          }
        }
      }
      this.observer.event('info', announce ? 'peers written back after a lapsed heartbeat' : 'shared state restored after a Redis outage', {
        peers: this.owned.size,
        rejoined: rejoined.length,
        heldPresence: this.heldPresence.length,
        ms: Date.now() - started,
      });
      this.announceHeldPresence();
    } catch (err) {
      this.observer.event('error', `restore failed, retrying: ${errorText(err)}`);
      this.announceRestored ||= announce;
      this.lost = true;
      this.scheduleRestore(500);
    }
  }

  /**
   * The rooms of the index (never KEYS or SCAN) that have peers or a live created-room record. The
   * server's own operator endpoints read Redis with the ClusterReader, on `commandClient()`.
   */
  async listRooms(): Promise<RoomEntry[]> {
    const index = await this.run('list_rooms', () => this.cmd.zrevrange(this.keys.rooms, 0, -1, 'WITHSCORES'));
    const roomIds = index.filter((_, i) => i % 2 === 0);
    const read = (roomId: string) => () =>
      Promise.all([
        this.cmd.hvals(this.keys.roomPeers(roomId)),
        this.cmd.hmget(this.keys.roomMeta(roomId), 'created_at', 'last_used', 'admin'),
        this.cmd.hmget(this.keys.roomToken(roomId), 'created_at', 'expires_at'),
      ]);
    const replies = await this.run('list_rooms', () => this.batch(roomIds.map(read)));
    const now = Date.now();
    const num = (v: string | null | undefined) => (v ? Number(v) : null);
    const entries: RoomEntry[] = [];
    replies.forEach(([peers, [createdAt, lastUsed, admin], [tokenCreatedAt, tokenExpiresAt]], i) => {
      const expiresAt = num(tokenExpiresAt);
      const createdRoom = expiresAt !== null && expiresAt > now ? { createdAt: num(tokenCreatedAt) ?? 0, expiresAt } : null;
      if (peers.length === 0 && createdRoom === null) return;
      entries.push({
        roomId: roomIds[i]!,
        peers: peers.map((r) => JSON.parse(r) as PeerRecord).sort(discoveryOrder),
        admin: admin || null,
        createdAt: num(createdAt) ?? createdRoom?.createdAt ?? null,
        lastUsed: num(lastUsed) ?? num(index[i * 2 + 1]),
        createdRoom,
      });
    });
    return entries;
  }

  /** The command connection, for the server's operator views (read only: ClusterReader). */
  commandClient(): RedisClient {
    return this.cmd;
  }
}

function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}


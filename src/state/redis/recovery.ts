import { StateUnavailableError } from '../../protocol/error-codes.js';
import { peerLeftFrame, presenceFrame } from '../../protocol/frames.js';
import { errorText } from '../../net/error-text.js';
import type { BackendObserver, PeerRecord } from '../state-backend.js';
import type { Bus } from './bus.js';
import { presenceEnvelope } from './bus-envelope.js';
import type { ConnectionEvents } from './connection.js';
import type { InstanceRegistry } from './instance-registry.js';
import type { OwnedPeers } from './owned-peers.js';
import type { PresenceHold } from './presence-hold.js';
import { roomTtlSeconds, type RedisCore } from './redis-core.js';
import type { Registration } from './registration.js';
import { sessionHash, storedRecordJson } from './stored-record.js';
import { roomEpoch } from './scripts.js';

export interface RecoveryDeps {
  readonly core: RedisCore;
  readonly owned: OwnedPeers;
  readonly registration: Registration;
  readonly held: PresenceHold;
  /** Both connections ready. */
  connected(): boolean;
  /** Shared state reachable, and no restore under way. */
  healthy(): boolean;
  stopped(): boolean;
  serverId(): string;
  bus(): Bus;
  registry(): InstanceRegistry | null;
  observer(): BackendObserver;
  publishPresence(roomId: string, aboutConnectionId: string, frame: string): Promise<void>;
}

/**
 * Keeping shared state true to this instance through outages: a lost connection marks the
 * instance lost; when Redis is back (maybe empty), or its heartbeat had lapsed, or a cluster's
 * topology changed, its own peers are written back, the leaves made meanwhile applied, and the
 * held presence events announced. Also the periodic keepalive of what it holds, and the removal
 * of peers of instances found dead.
 */
export class Recovery implements ConnectionEvents {
  private isLost = false;
  /** The next restore follows a lapsed heartbeat: peers it writes back are announced as joined. */
  private announceRestored = false;
  private restoring: Promise<void> | null = null;
  private timer: NodeJS.Timeout | null = null;

  constructor(private readonly deps: RecoveryDeps) {}

  /** A restore is under way: requests wait for it (the instance counts as unhealthy). */
  get busy(): boolean {
    return this.restoring !== null;
  }

  lost(role: string | null): void {
    if (this.deps.stopped() || this.isLost) return;
    this.isLost = true;
    if (role !== null) {
      this.deps.observer().event('warn', `Redis ${role} connection lost; requests that need shared state get SERVICE_UNAVAILABLE`);
    }
  }

  ready(): void {
    if (this.isLost) this.schedule(0);
  }

  resubscribed(): void {
    this.schedule(0);
  }

  topologyChanged(): void {
    this.schedule(1000);
  }

  /** This instance's heartbeat had lapsed: it may have been taken for dead and its peers removed. */
  lapsed(): void {
    this.deps.observer().event('warn', 'this instance\'s heartbeat had lapsed (taken for dead?): writing its peers back');
    this.announceRestored = true;
    this.schedule(0);
  }

  stop(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }

  /** Refreshes the TTLs of this instance's peers and rooms, so nothing it holds expires. */
  async keepalive(): Promise<void> {
    const { owned, core } = this.deps;
    if (!this.deps.healthy() || owned.peers.size === 0) return;
    const { cmd, keys, runner } = core;
    const ttl = roomTtlSeconds(core.options);
    const now = Date.now();
    const work: (() => Promise<unknown>)[] = [];
    const rooms = new Set<string>();
    for (const { record } of owned.peers.values()) {
      work.push(() => cmd.expire(keys.peer(record.peerId), ttl));
      if (record.subject !== null) work.push(() => cmd.expire(keys.peerOwner(record.peerId), ttl));
      rooms.add(record.roomId);
    }
    for (const roomId of rooms) {
      for (const key of keys.room(roomId)) work.push(() => cmd.expire(key, ttl));
      work.push(() => cmd.zadd(keys.rooms, now, roomId));
    }
    await runner.run('keepalive', () => runner.batch(work));
  }

  /** Removes a peer whose instance is gone, and tells the room (`server_lost`). */
  async reapPeer(peerId: string, connectionId: string, knownRoom?: string): Promise<void> {
    const { cmd, keys, runner } = this.deps.core;
    const roomId = knownRoom ?? (await runner.run('hget', () => cmd.hget(keys.peer(peerId), 'room')));
    if (!roomId) return;
    const removed = await this.deps.registration.removeShared(roomId, peerId, connectionId);
    if (removed) {
      this.deps.observer().event('info', 'removed a peer of a lost instance', { peerId, roomId, connectionId });
      await this.deps.publishPresence(roomId, connectionId, peerLeftFrame(peerId, 'server_lost'));
    }
  }

  private schedule(delayMs: number): void {
    // Before start() has finished there is nothing of this instance to restore.
    if (this.deps.stopped() || this.deps.registry() === null || this.timer !== null) return;
    this.timer = setTimeout(() => {
      this.timer = null;
      if (this.deps.stopped() || !this.deps.connected()) {
        if (!this.deps.stopped()) this.schedule(500);
        return;
      }
      this.isLost = false;
      this.restoring ??= this.restore().finally(() => {
        this.restoring = null;
      });
    }, delayMs);
    this.timer.unref();
  }

  /**
   * Redis is back (maybe empty): write this instance back, make shared state equal to the local
   * truth (live peers rewritten, peers that left meanwhile removed and announced).
   */
  private async restore(): Promise<void> {
    const { core, owned, held } = this.deps;
    const { cmd, keys, runner, scripts } = core;
    const serverId = this.deps.serverId();
    const started = Date.now();
    const announce = this.announceRestored;
    this.announceRestored = false;
    try {
      // A reaper at work on this instance: write back after it is done, or it would undo this.
      if (await runner.run('exists', () => cmd.exists(keys.reapLock(serverId)))) {
        throw new StateUnavailableError('another instance is removing this instance\'s peers');
      }
      await this.deps.registry()!.beat();
      await this.flushPendingLeaves();
      const now = Date.now();
      const ttl = roomTtlSeconds(core.options);
      const rejoined: PeerRecord[] = [];
      for (const { record, admin } of owned.peers.values()) {
        const peerKey = keys.peer(record.peerId);
        await runner.run('restore', async () => {
          const [, , , , added] = await Promise.all([
            cmd.hset(peerKey, {
              conn: record.connectionId,
              room: record.roomId,
              session: sessionHash(record.sessionToken),
              subject: record.subject ?? '',
              at: String(record.connectedAt),
            }),
            cmd.expire(peerKey, ttl),
            cmd.sadd(keys.serverPeers(serverId), record.peerId),
            cmd.zadd(keys.rooms, now, record.roomId),
            scripts.restore(keys.room(record.roomId), {
              peerId: record.peerId,
              recordJson: storedRecordJson(record),
              connectionId: record.connectionId,
              presence: record.presence,
              admin,
              now,
              ttlSeconds: ttl,
              epoch: roomEpoch(),
            }),
          ]);
          if (added) rejoined.push(record);
        });
      }
      // Peers that left while the restore ran.
      await this.flushPendingLeaves();
      // After a lapsed heartbeat the room may have been told these peers were lost: undo that.
      if (announce) {
        for (const record of rejoined) {
          if (owned.peers.get(record.peerId)?.record === record) {
            const envelope = presenceEnvelope(record.roomId, record.connectionId, presenceFrame('peer_joined', record));
            await this.deps.bus().fanOutPresence(record.roomId, envelope, '');
          }
        }
      }
      this.deps.observer().event('info', announce ? 'peers written back after a lapsed heartbeat' : 'shared state restored after a Redis outage', {
        peers: owned.peers.size,
        rejoined: rejoined.length,
        heldPresence: held.size,
        ms: Date.now() - started,
      });
      held.announce();
    } catch (err) {
      this.deps.observer().event('error', `restore failed, retrying: ${errorText(err)}`);
      this.announceRestored ||= announce;
      this.isLost = true;
      this.schedule(500);
    }
  }

  /**
   * Removes peers that left during the outage from shared state (their leaves were announced as
   * presence events, held for the other instances: see PresenceHold).
   */
  private async flushPendingLeaves(): Promise<void> {
    const { owned, registration } = this.deps;
    for (const [peerId, pending] of [...owned.pendingLeaves]) {
      const { record } = pending;
      await registration.removeShared(record.roomId, peerId, record.connectionId);
      owned.pendingLeaves.delete(peerId);
    }
  }
}

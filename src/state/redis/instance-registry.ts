import type { BackendObserver, InstanceInfo, InstanceStats } from '../state-backend.js';
import { serverOfConnection } from '../state-backend.js';
import type { RedisCore } from './redis-core.js';

/** What the registry asks of the instance's recovery. */
export interface RegistryRecovery {
  /** Removes a peer of a dead instance, telling its room. */
  reapPeer(peerId: string, connectionId: string): Promise<void>;
  /** Refreshes the TTLs of what this instance holds. */
  keepalive(): Promise<void>;
  /** This instance's heartbeat had lapsed (it may have been taken for dead and reaped). */
  lapsed(): void;
}

export interface InstanceRegistryDeps {
  readonly core: RedisCore;
  readonly instance: InstanceInfo;
  readonly stats: () => InstanceStats;
  readonly recovery: RegistryRecovery;
  /** Whether anyone still listens on the instance's channel (false when that cannot be known). */
  readonly isListening: (serverId: string) => Promise<boolean>;
  readonly observer: BackendObserver;
}

/**
 * Liveness of instances: each one refreshes a heartbeat key that expires after `reapAfterMs`;
 * every instance looks for lapsed ones, and exactly one (holding a lock) removes a dead
 * instance's peers, announcing `server_lost`.
 *
 * A heartbeat can also lapse while its instance lives: on Redis Cluster, when the master holding
 * the key fails over. So a lapsed instance that still listens on its channel gets a grace of half
 * `reapAfterMs` more, and an instance that finds its own heartbeat key gone writes its peers back.
 */
export class InstanceRegistry {
  private timer: NodeJS.Timeout | null = null;
  private ticks = 0;
  private busy = false;
  private lastBeat: { at: number; relayed: number } | null = null;
  private beats = 0;

  constructor(private readonly deps: InstanceRegistryDeps) {}

  /** How long past `reapAfterMs` an instance that still listens on its channel is spared. */
  get graceMs(): number {
    return Math.floor(this.reapAfterMs / 2);
  }

  get intervalMs(): number {
    return Math.max(50, Math.floor(this.reapAfterMs / 3));
  }

  private get reapAfterMs(): number {
    return this.deps.core.options.reapAfterMs;
  }

  private get roomTtlMs(): number {
    return this.deps.core.options.roomTtlMs;
  }

  private run<T>(name: string, fn: () => Promise<T>): Promise<T> {
    return this.deps.core.runner.run(name, fn);
  }

  start(): void {
    this.timer = setInterval(() => void this.tick(), this.intervalMs);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }

  async beat(): Promise<void> {
    const { instance } = this.deps;
    const { cmd: redis, keys } = this.deps.core;
    const { reapAfterMs, roomTtlMs } = this;
    const run = this.run.bind(this);
    const now = Date.now();
    const { connections, peers, relayed } = this.deps.stats();
    const last = this.lastBeat;
    const rate = last && now > last.at ? ((relayed - last.relayed) * 1000) / (now - last.at) : 0;
    this.lastBeat = { at: now, relayed };
    // Separate commands, not one pipeline: on Redis Cluster these keys live in different slots.
    const server = keys.server(instance.serverId);
    const [added] = await run('heartbeat', () =>
      Promise.all([
        redis.hset(server, {
      host: instance.host,
      port: String(instance.port),
      version: instance.version,
      started_at: String(instance.startedAt),
      heartbeat_at: String(now),
      connections: String(connections),
      peers: String(peers),
          relayed_total: String(relayed),
          relay_rate: rate.toFixed(1),
        }),
        redis.pexpire(server, reapAfterMs),
        redis.pexpire(keys.serverPeers(instance.serverId), Math.max(roomTtlMs, reapAfterMs * 4)),
        redis.zadd(keys.servers, now, instance.serverId),
        // The indexes outlive no one: stale rooms leave the index, and both expire with the last instance.
        redis.zremrangebyscore(keys.rooms, '-inf', now - roomTtlMs),
        redis.pexpire(keys.rooms, roomTtlMs),
        redis.pexpire(keys.servers, Math.max(roomTtlMs, reapAfterMs * 4)),
      ]),
    );
    // HSET counts the fields it created: any means the key had gone since the previous beat.
    if (this.beats++ > 0 && added > 0) this.deps.recovery.lapsed();
  }

  /** Removes this instance's own records on a clean stop. */
  async deregister(): Promise<void> {
    const { instance } = this.deps;
    const { cmd: redis, keys } = this.deps.core;
    await this.run('deregister', () =>
      Promise.all([redis.del(keys.server(instance.serverId), keys.serverPeers(instance.serverId)), redis.zrem(keys.servers, instance.serverId)]),
    );
  }

  private async tick(): Promise<void> {
    if (this.busy) return;
    this.busy = true;
    try {
      await this.beat();
      await this.reapDead();
      // Keepalive well inside the room TTL, but not every tick.
      if (++this.ticks * this.intervalMs >= Math.min(this.roomTtlMs / 4, 300_000)) {
        this.ticks = 0;
        await this.deps.recovery.keepalive();
      }
    } catch {
      // Redis unreachable: the backend's outage handling takes it from here.
    } finally {
      this.busy = false;
    }
  }

  async reapDead(): Promise<string[]> {
    const { instance, observer } = this.deps;
    const { cmd: redis, keys } = this.deps.core;
    const { reapAfterMs } = this;
    const run = this.run.bind(this);
    const now = Date.now();
    const lapsed = await run('zrangebyscore', () => redis.zrangebyscore(keys.servers, '-inf', now - reapAfterMs, 'WITHSCORES'));
    const reaped: string[] = [];
    for (let i = 0; i < lapsed.length; i += 2) {
      const serverId = lapsed[i]!;
      const lastBeat = Number(lapsed[i + 1]);
      if (serverId === instance.serverId) continue;
      if (await run('exists', () => redis.exists(keys.server(serverId)))) continue;
      if (lastBeat > now - reapAfterMs - this.graceMs && (await this.deps.isListening(serverId))) continue;
      const lock = await run('set', () => redis.set(keys.reapLock(serverId), instance.serverId, 'PX', Math.max(30_000, reapAfterMs * 2), 'NX'));
      if (lock !== 'OK') continue;
      // It may have beaten between the check and the lock; it then writes its own peers back
      // only after this lock is gone, so checking again here closes the race.
      if (await run('exists', () => redis.exists(keys.server(serverId)))) {
        await run('del', () => redis.del(keys.reapLock(serverId)));
        continue;
      }
      const peers = await run('smembers', () => redis.smembers(keys.serverPeers(serverId)));
      observer.event('warn', 'instance lost: removing its peers', { lostServerId: serverId, peers: peers.length });
      for (const peerId of peers) {
        const conn = await run('hget', () => redis.hget(keys.peer(peerId), 'conn'));
        if (conn && serverOfConnection(conn) === serverId) await this.deps.recovery.reapPeer(peerId, conn);
      }
      await run('reap', () => Promise.all([redis.del(keys.serverPeers(serverId), keys.reapLock(serverId)), redis.zrem(keys.servers, serverId)]));
      reaped.push(serverId);
    }
    return reaped;
  }

  /** Whether an instance counts as alive although nothing answered on its channel just now. */
  async looksAlive(serverId: string): Promise<boolean> {
    const { cmd: redis, keys } = this.deps.core;
    const { reapAfterMs } = this;
    const [beating, lastBeat] = await this.run('exists', () =>
      Promise.all([redis.exists(keys.server(serverId)), redis.zscore(keys.servers, serverId)]),
    );
    return beating > 0 || (lastBeat !== null && Number(lastBeat) > Date.now() - reapAfterMs - this.graceMs);
  }
}

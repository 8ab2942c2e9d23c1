import pLimit from 'p-limit';
import { nowUs, sleepUntil } from '../clock.js';
import type { RegisterOutcome, Rejoin } from '../peer.js';
import type { Recorder } from '../recorder.js';
import type { ConnectionCounts, ShardContext } from './context.js';
import type { Entry } from './peers.js';

/**
 * A join's outcome: how long each step took and the reply's peer list (when the join asked to read
 * it), or the step that failed and the class of the failure.
 */
export type JoinOutcome =
  | { ok: true; connectUs: number; registerUs: number; peerList: readonly string[] | null }
  | { ok: false; step: 'connect' | 'register'; cls: string };

/**
 * The connect ramp: this shard's peers connect and register at its share of the connect rate,
 * with at most its share of the handshakes in flight. Churn joins again the same way.
 */
export class Ramp {
  private readonly rec: Recorder;
  private readonly connections: ConnectionCounts;
  private stopped = false;

  constructor(private readonly ctx: ShardContext) {
    this.rec = ctx.rec;
    this.connections = ctx.connections;
  }

  /** Connects and registers every peer; resolves with how many registered. */
  async run(startUs: number): Promise<number> {
    const { scenario: s, init } = this.ctx;
    const rate = s.connect.rate / init.shards;
    const limit = pLimit(Math.max(1, Math.round(s.connect.maxInFlight / init.shards)));
    const entries = this.ctx.peers.entries;
    const jobs: Promise<JoinOutcome>[] = [];
    for (let i = 0; i < entries.length; i++) {
      const slot = startUs + (i * 1_000_000) / rate;
      if (slot > nowUs() + 1000) await sleepUntil(slot);
      if (this.stopped) break;
      const entry = entries[i]!;
      jobs.push(limit(() => this.join(entry, true)));
    }
    await Promise.all(jobs);
    return this.connections.rampRegistered;
  }

  stop(): void {
    this.stopped = true;
  }

  /**
   * Connects a peer to its instance and registers it (`duringRamp`: counted as the ramp's; `rejoin`:
   * coming back after a lost connection).
   */
  async join(entry: Entry, duringRamp: boolean, rejoin?: Rejoin): Promise<JoinOutcome> {
    const s = this.ctx.scenario;
    const { plan, peer } = entry;
    const conn = this.connections;
    this.rec.counters.connectAttempts++;
    const c = await peer.connect(this.ctx.init.urls[entry.instance]!, s.connect.timeoutMs, plan.localAddress);
    if (!c.ok) {
      this.rec.error(c.cls);
      return { ok: false, step: 'connect', cls: c.cls };
    }
    conn.open++;
    if (conn.open > conn.peakOpen) conn.peakOpen = conn.open;
    this.rec.record('connect', c.us);
    this.rec.counters.connected++;
    if (duringRamp) conn.rampConnected++;
    const r = await this.register(entry, Math.max(s.connect.timeoutMs, s.requestTimeoutMs), rejoin);
    if (!r.ok) {
      // A close during register is counted by the inbound side (closed()).
      if (!r.cls.startsWith('close.')) this.rec.error(r.cls);
      await peer.close();
      return { ok: false, step: 'register', cls: r.cls };
    }
    this.rec.record('register', r.us);
    this.rec.counters.registered++;
    if (duringRamp) conn.rampRegistered++;
    return { ok: true, connectUs: c.us, registerUs: r.us, peerList: r.peerList };
  }

  /** Registers an open connection with its role's metadata. */
  register(entry: Entry, timeoutMs: number, rejoin?: Rejoin): Promise<RegisterOutcome> {
    const roles = this.ctx.scenario.roles;
    const { plan, peer } = entry;
    const metadata = plan.role === 'worker' ? roles.workerMetadata : roles.clientMetadata;
    return peer.register(plan.roomId, plan.role, metadata, roles.presence, timeoutMs, rejoin);
  }
}

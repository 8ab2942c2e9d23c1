import pLimit from 'p-limit';
import { nowUs, sleepUntil } from '../clock.js';
import type { StepOutcome } from '../peer.js';
import type { Recorder } from '../recorder.js';
import type { ConnectionCounts, ShardContext } from './context.js';
import type { Entry } from './peers.js';

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
    const jobs: Promise<boolean>[] = [];
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

  /** Connects and registers one peer (`duringRamp`: counted as the ramp's); false when either failed. */
  async join(entry: Entry, duringRamp: boolean): Promise<boolean> {
    const s = this.ctx.scenario;
    const { plan, peer } = entry;
    const conn = this.connections;
    this.rec.counters.connectAttempts++;
    const c = await peer.connect(this.ctx.init.urls[plan.url]!, s.connect.timeoutMs, plan.localAddress);
    if (!c.ok) {
      this.rec.error(c.cls);
      return false;
    }
    conn.open++;
    if (conn.open > conn.peakOpen) conn.peakOpen = conn.open;
    this.rec.record('connect', c.us);
    this.rec.counters.connected++;
    if (duringRamp) conn.rampConnected++;
    const r = await this.register(entry, Math.max(s.connect.timeoutMs, s.requestTimeoutMs));
    if (!r.ok) {
      // A close during register is counted by the inbound side (closed()).
      if (!r.cls.startsWith('close.')) this.rec.error(r.cls);
      await peer.close();
      return false;
    }
    this.rec.record('register', r.us);
    this.rec.counters.registered++;
    if (duringRamp) conn.rampRegistered++;
    return true;
  }

  /** Registers an open connection with its role's metadata. */
  register(entry: Entry, timeoutMs: number): Promise<StepOutcome> {
    const roles = this.ctx.scenario.roles;
    const { plan, peer } = entry;
    const metadata = plan.role === 'worker' ? roles.workerMetadata : roles.clientMetadata;
    return peer.register(plan.roomId, plan.role, metadata, roles.presence, timeoutMs);
  }
}

import { nowUs, sleepUntil } from '../clock.js';
import type { Random } from '../random.js';
import { recordUs, type Recorder } from '../recorder.js';
import { OpenLoopSchedule } from '../schedule.js';
import { MIX_OPS, type MixOp } from '../scenario/schema.js';
import type { ShardContext, TrafficWindow, WindowPart } from './context.js';
import type { Entry } from './peers.js';
import type { StormLedger } from './storm-ledger.js';
import type { IntervalCounts } from './timeline.js';

/**
 * The traffic: the open model sends each peer's operations on its own schedule, whatever the
 * server does; the closed model keeps each peer's relays in flight and sends the next as one
 * arrives (the inbound side calls closedSend()). Only operations scheduled in the measured part
 * of the window are recorded.
 */
export class Traffic implements WindowPart {
  private readonly entries: Entry[];
  private readonly byIndex: Map<number, Entry>;
  private readonly rec: Recorder;
  private readonly random: Random;
  private readonly interval: IntervalCounts;
  private readonly window: TrafficWindow;
  private readonly storms: StormLedger;
  private readonly mixCumulative: number[];
  private readonly relayPad: string;
  private readonly discoverFrame: string;
  private readonly fanout: boolean;
  private readonly lateAfterUs: number;
  readonly closedLoop: boolean;
  private schedule: OpenLoopSchedule | null = null;
  private stopped = false;
  /** Operations sent so far. */
  ops = 0;

  constructor(private readonly ctx: ShardContext) {
    const s = ctx.scenario;
    this.entries = ctx.peers.entries;
    this.byIndex = ctx.peers.byIndex;
    this.rec = ctx.rec;
    this.random = ctx.random;
    this.interval = ctx.interval;
    this.window = ctx.window;
    this.storms = ctx.storms;
    let acc = 0;
    this.mixCumulative = MIX_OPS.map((op) => (acc += s.traffic.mix[op]));
    this.relayPad = 'x'.repeat(Math.max(0, s.traffic.payloadBytes - 48));
    const filter = { ...s.roles.discoverFilter };
    this.discoverFrame = JSON.stringify({ type: 'discover_peers', filters: filter });
    this.fanout = s.traffic.pattern === 'fanout';
    this.lateAfterUs = s.lateAfterMs * 1000;
    this.closedLoop = s.traffic.model === 'closed';
  }

  async run(window: TrafficWindow): Promise<void> {
    const s = this.ctx.scenario;
    const anyOnline = this.ctx.peers.anyOnline();
    if (this.closedLoop && anyOnline) {
      void this.startClosedLoop(window.startUs);
    } else if (s.traffic.rate > 0 && anyOnline) {
      const schedule = new OpenLoopSchedule({
        arrival: s.traffic.arrival,
        rate: s.traffic.rate,
        random: this.random,
        endUs: window.endUs,
        due: (id, intended, now) => this.due(id, intended, now),
      });
      this.schedule = schedule;
      this.entries.forEach((_, i) => schedule.add(i, window.startUs));
      schedule.start();
    }
    await sleepUntil(window.endUs);
    await this.schedule?.done;
  }

  stop(): void {
    this.stopped = true;
    this.schedule?.stop();
  }

  /** Closed model: every peer puts its window of relays in flight; each arrival sends the next. */
  private async startClosedLoop(startUs: number): Promise<void> {
    await sleepUntil(startUs);
    const inFlight = this.ctx.scenario.traffic.inFlight;
    for (let k = 0; k < inFlight; k++) for (const entry of this.entries) this.closedSend(entry);
  }

  /** Closed model: the next relay of `entry`, unless the traffic is over. */
  closedSend(entry: Entry): void {
    if (this.stopped || !entry.peer.online) return;
    const now = nowUs();
    if (now >= this.window.endUs) return;
    const target = this.nextTarget(entry);
    if (target !== null && this.sendRelay(entry, target, now)) {
      this.ops++;
      this.interval.ops++;
    }
  }

  /** Open model: peer `id`'s next operation was due at `intendedUs`. */
  private due(id: number, intendedUs: number, now: number): void {
    const entry = this.entries[id]!;
    const measured = intendedUs >= this.window.measureStartUs;
    const c = this.rec.counters;
    if (measured) {
      c.scheduled++;
      const lag = now - intendedUs;
      recordUs(this.rec.lag, lag);
      if (lag > this.lateAfterUs) c.late++;
    }
    if (!entry.peer.online) {
      if (measured) c.skippedOffline++;
      return;
    }
    const op: MixOp = MIX_OPS[this.random.pick(this.mixCumulative)]!;
    let sent = false;
    switch (op) {
      case 'relay':
        sent = this.relayOp(entry, intendedUs);
        break;
      case 'discover':
        sent = entry.peer.discover(this.discoverFrame, intendedUs);
        break;
      case 'update_metadata':
        sent = entry.peer.updateMetadata(this.metadataFrame(entry), intendedUs);
        break;
      case 'offer_answer':
        sent = this.offer(entry, intendedUs);
        break;
    }
    if (sent) {
      this.ops++;
      this.interval.ops++;
    } else if (measured) {
      c.skippedOffline++;
    }
  }

  private nextTarget(entry: Entry): Entry | null {
    const targets = entry.plan.targets;
    if (targets.length === 0) return null;
    const pick = this.fanout ? this.random.int(targets.length) : entry.peer.cursor++ % targets.length;
    const target = this.byIndex.get(targets[pick]!);
    return target && target.peer.online ? target : null;
  }

  private relayOp(entry: Entry, intendedUs: number): boolean {
    if (!this.fanout) {
      const target = this.nextTarget(entry);
      return target !== null && this.sendRelay(entry, target, intendedUs);
    }
    let any = false;
    for (const t of entry.plan.targets) {
      const target = this.byIndex.get(t);
      if (target && target.peer.online && this.sendRelay(entry, target, intendedUs)) any = true;
    }
    return any;
  }

  private sendRelay(from: Entry, to: Entry, intendedUs: number): boolean {
    const seqOut = from.peer.seqOut;
    const seq = seqOut.get(to.plan.index) ?? 0;
    const frame = `{"type":"peer_message","to_peer_id":"${to.plan.peerId}","payload":{"s":${from.plan.index},"q":${seq},"t":${intendedUs},"p":"${this.relayPad}"}}`;
    if (!from.peer.send(frame)) return false;
    seqOut.set(to.plan.index, seq + 1);
    const c = this.rec.counters;
    c.relaysSent++;
    if (from.instance !== to.instance) c.relaysCrossSent++;
    if (intendedUs >= this.storms.fromUs) {
      this.storms.sent(intendedUs, nowUs(), { from: from.plan.index, to: to.plan.index, seq, senderConn: from.peer.connections, targetConn: to.peer.connections });
    }
    this.interval.sent++;
    return true;
  }

  private offer(entry: Entry, intendedUs: number): boolean {
    const target = this.nextTarget(entry);
    if (target === null) return false;
    const frame = `{"type":"offer","target":"${target.plan.peerId}","sdp":"v=0 bench-offer ${this.relayPad}","bench_t":${intendedUs}}`;
    if (!entry.peer.send(frame)) return false;
    entry.peer.offers++;
    return true;
  }

  private metadataFrame(entry: Entry): string {
    const n = ++entry.peer.updates;
    const status = entry.plan.role === 'worker' ? (n % 2 === 0 ? 'available' : 'busy') : 'idle';
    return `{"type":"update_metadata","metadata":{"properties":{"status":"${status}","bench_updates":${n}}}}`;
  }
}

import pLimit from 'p-limit';
import type { Histogram } from 'hdr-histogram-js';
import { nowUs, sleep, sleepUntil } from './clock.js';
import { LoopMonitor, type LoopStats } from './monitor.js';
import { BenchPeer, type PeerSink } from './peer.js';
import type { PeerPlan } from './placement.js';
import { Random } from './random.js';
import { encodeHistogram, newHistogram, Recorder, recordUs, type EncodedRecorder } from './recorder.js';
import { nextGapUs, OpenLoopSchedule } from './schedule.js';
import type { Scenario } from './scenario/scenario.js';
import { MIX_OPS, type MixOp } from './scenario/schema.js';

/**
 * One generator thread's share of the run: whole rooms of peers (so every relay starts and ends
 * in the same thread, on the same clock), their connect ramp, their traffic (open model: on a
 * schedule; closed model: the next relay when one arrives), churn,
 * and the accounting of what was sent and received.
 */

export interface ShardInit {
  readonly shard: number;
  readonly shards: number;
  readonly scenario: Scenario;
  readonly urls: readonly string[];
  readonly peers: readonly PeerPlan[];
  /** Start of the run on the shared clock: timeline second 0. */
  readonly runStartUs: number;
}

export interface TrafficWindow {
  /** Traffic (warm-up) starts. */
  readonly startUs: number;
  /** Measuring starts: operations scheduled from here on are recorded. */
  readonly measureStartUs: number;
  /** Nothing is scheduled from here on. */
  readonly endUs: number;
}

export interface Progress {
  readonly open: number;
  readonly registered: number;
  readonly relaysSent: number;
  readonly relaysReceived: number;
  readonly ops: number;
  readonly errors: number;
  /** p99 of the relays recorded so far (µs), 0 when none yet. */
  readonly relayP99Us: number;
}

export interface TimelineSample {
  /** Second since the run started. */
  readonly i: number;
  readonly open: number;
  readonly registered: number;
  /** Counts within this second. */
  readonly relaysSent: number;
  readonly relaysReceived: number;
  readonly ops: number;
  readonly errors: number;
  /** Relay latencies (all relays, µs) recorded within this second, encoded. */
  readonly relay: string;
  readonly loopP99Ms: number;
  readonly loopMaxMs: number;
  readonly progress: Progress;
}

export interface ShardResult {
  readonly recorder: EncodedRecorder;
  readonly timeline: TimelineSample[];
  readonly loop: LoopStats;
  readonly peakOpen: number;
  readonly openAtEnd: number;
  readonly rampConnected: number;
  readonly rampRegistered: number;
}

interface Entry {
  readonly plan: PeerPlan;
  readonly peer: BenchPeer;
}

export class Shard implements PeerSink {
  private readonly entries: Entry[];
  private readonly byIndex = new Map<number, Entry>();
  private readonly rec = new Recorder();
  private readonly loop = new LoopMonitor();
  private readonly random: Random;
  private readonly mixCumulative: number[];
  private readonly relayPad: string;
  private readonly discoverFrame: string;
  private readonly closedLoop: boolean;
  private window: TrafficWindow = { startUs: Infinity, measureStartUs: Infinity, endUs: Infinity };
  private schedule: OpenLoopSchedule | null = null;
  private stopping = false;
  private open = 0;
  private peakOpen = 0;
  private rampConnected = 0;
  private rampRegistered = 0;
  private readonly churnCycles = new Set<Promise<void>>();
  private readonly timeline: TimelineSample[] = [];
  private sampler: NodeJS.Timeout | null = null;
  private readonly interval = { relay: newHistogram() as Histogram, sent: 0, received: 0, ops: 0, errorsBefore: 0 };
  private ops = 0;
  /** Called after each timeline sample (worker threads post it to the main thread). */
  onSample: (sample: TimelineSample) => void = () => {};

  constructor(private readonly init: ShardInit) {
    const s = init.scenario;
    this.random = new Random((s.seed * 2654435761 + init.shard * 40503 + 1) >>> 0);
    this.entries = init.peers.map((plan) => {
      const entry = { plan, peer: new BenchPeer(plan.index, plan.peerId, this) };
      this.byIndex.set(plan.index, entry);
      return entry;
    });
    let acc = 0;
    this.mixCumulative = MIX_OPS.map((op) => (acc += s.traffic.mix[op]));
    this.relayPad = 'x'.repeat(Math.max(0, s.traffic.payloadBytes - 48));
    const filter = { ...s.roles.discoverFilter };
    this.discoverFrame = JSON.stringify({ type: 'discover_peers', filters: filter });
    this.closedLoop = s.traffic.model === 'closed';
    this.startSampler();
  }

  // ---- Ramp

  /** Connects and registers this shard's peers at its share of the connect rate; resolves with how many registered. */
  async ramp(startUs: number): Promise<number> {
    const s = this.init.scenario;
    const rate = s.connect.rate / this.init.shards;
    const limit = pLimit(Math.max(1, Math.round(s.connect.maxInFlight / this.init.shards)));
    const jobs: Promise<boolean>[] = [];
    for (let i = 0; i < this.entries.length; i++) {
      const slot = startUs + (i * 1_000_000) / rate;
      if (slot > nowUs() + 1000) await sleepUntil(slot);
      if (this.stopping) break;
      const entry = this.entries[i]!;
      jobs.push(limit(() => this.join(entry, true)));
    }
    await Promise.all(jobs);
    return this.rampRegistered;
  }

  private async join(entry: Entry, ramp: boolean): Promise<boolean> {
    const s = this.init.scenario;
    const { plan, peer } = entry;
    this.rec.counters.connectAttempts++;
    const c = await peer.connect(this.init.urls[plan.url]!, s.connect.timeoutMs, plan.localAddress);
    if (!c.ok) {
      this.rec.error(c.cls);
      return false;
    }
    this.open++;
    if (this.open > this.peakOpen) this.peakOpen = this.open;
    this.rec.record('connect', c.us);
    this.rec.counters.connected++;
    if (ramp) this.rampConnected++;
    const metadata = plan.role === 'worker' ? s.roles.workerMetadata : s.roles.clientMetadata;
    const r = await peer.register(plan.roomId, plan.role, metadata, s.roles.presence, Math.max(s.connect.timeoutMs, s.requestTimeoutMs));
    if (!r.ok) {
      // A close during register is counted by closed().
      if (!r.cls.startsWith('close.')) this.rec.error(r.cls);
      await peer.close();
      return false;
    }
    this.rec.record('register', r.us);
    this.rec.counters.registered++;
    if (ramp) this.rampRegistered++;
    return true;
  }

  // ---- Traffic

  /** Runs the traffic of the window (warm-up, measure), churn, then drains; resolves when done. */
  async traffic(window: TrafficWindow): Promise<void> {
    const s = this.init.scenario;
    this.window = window;
    const measureTimer = setTimeout(() => this.loop.resetWindow(), Math.max(0, (window.measureStartUs - nowUs()) / 1000));
    const anyOnline = this.entries.some((e) => e.peer.online);
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
    const churn = s.churn.rate > 0 && anyOnline ? this.churn(window) : Promise.resolve();
    await sleepUntil(window.endUs);
    await this.schedule?.done;
    await churn;
    await Promise.all(this.churnCycles);
    clearTimeout(measureTimer);
    await this.drain(s.drainMs);
  }

  /** Closed model: every peer puts its window of relays in flight; each arrival sends the next (see relay()). */
  private async startClosedLoop(startUs: number): Promise<void> {
    await sleepUntil(startUs);
    const inFlight = this.init.scenario.traffic.inFlight;
    for (let k = 0; k < inFlight; k++) for (const entry of this.entries) this.closedSend(entry);
  }

  private closedSend(entry: Entry): void {
    if (this.stopping || !entry.peer.online) return;
    const now = nowUs();
    if (now >= this.window.endUs) return;
    const target = this.nextTarget(entry);
    if (target !== null && this.sendRelay(entry, target, now)) {
      this.ops++;
      this.interval.ops++;
    }
  }

  private due(id: number, intendedUs: number, now: number): void {
    const entry = this.entries[id]!;
    const measured = intendedUs >= this.window.measureStartUs;
    const c = this.rec.counters;
    if (measured) {
      c.scheduled++;
      const lag = now - intendedUs;
      recordUs(this.rec.lag, lag);
      if (lag > this.init.scenario.lateAfterMs * 1000) c.late++;
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
    const pick = this.init.scenario.traffic.pattern === 'fanout' ? this.random.int(targets.length) : entry.peer.cursor++ % targets.length;
    const target = this.byIndex.get(targets[pick]!);
    return target && target.peer.online ? target : null;
  }

  private relayOp(entry: Entry, intendedUs: number): boolean {
    if (this.init.scenario.traffic.pattern !== 'fanout') {
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
    if (from.plan.url !== to.plan.url) c.relaysCrossSent++;
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

  // ---- Churn

  private async churn(window: TrafficWindow): Promise<void> {
    const s = this.init.scenario;
    const rate = s.churn.rate / this.init.shards;
    let at = window.startUs + nextGapUs('poisson', rate, this.random);
    while (at < window.endUs && !this.stopping) {
      await sleepUntil(at);
      if (this.stopping || nowUs() >= window.endUs) break;
      const entry = this.pickOnline();
      if (entry) {
        const cycle = this.churnCycle(entry).finally(() => this.churnCycles.delete(cycle));
        this.churnCycles.add(cycle);
      }
      at += nextGapUs('poisson', rate, this.random);
    }
  }

  private pickOnline(): Entry | null {
    for (let tries = 0; tries < 20; tries++) {
      const e = this.entries[this.random.int(this.entries.length)]!;
      if (e.peer.online) return e;
    }
    return this.entries.find((e) => e.peer.online) ?? null;
  }

  /** A peer leaves (after a grace period in which it is no target), stays away, and comes back. */
  private async churnCycle(entry: Entry): Promise<void> {
    const s = this.init.scenario;
    const { peer, plan } = entry;
    peer.away = true;
    this.rec.counters.churnLeft++;
    await sleep(s.churn.graceMs);
    if (s.churn.mode === 'close') {
      await peer.close();
    } else if (!(await peer.leave(s.requestTimeoutMs))) {
      this.rec.error('timeout.leave');
    }
    this.countUnanswered(entry, 'unanswered');
    await sleep(s.churn.downtimeMs);
    let ok: boolean;
    if (s.churn.mode === 'close' || peer.state === 'closed') {
      ok = await this.join(entry, false);
    } else {
      const metadata = plan.role === 'worker' ? s.roles.workerMetadata : s.roles.clientMetadata;
      const r = await peer.register(plan.roomId, plan.role, metadata, s.roles.presence, s.requestTimeoutMs);
      if (r.ok) this.rec.record('register', r.us);
      else if (!r.cls.startsWith('close.')) this.rec.error(r.cls);
      ok = r.ok;
    }
    peer.away = false;
    if (ok) this.rec.counters.churnRejoined++;
    else this.rec.counters.churnFailed++;
  }

  // ---- Drain and finish

  private async drain(maxMs: number): Promise<void> {
    const deadline = nowUs() + maxMs * 1000;
    let last = -1;
    let lastChange = nowUs();
    while (nowUs() < deadline) {
      const c = this.rec.counters;
      const outstanding = this.entries.reduce((a, e) => a + e.peer.outstanding, 0);
      const inFlight = c.relaysSent - c.relaysReceived + outstanding;
      if (inFlight <= 0) return;
      const progress = c.relaysReceived + this.entries.reduce((a, e) => a + e.peer.answers, 0);
      if (progress !== last) {
        last = progress;
        lastChange = nowUs();
      } else if (nowUs() - lastChange > 1_000_000) {
        return;
      }
      await sleep(20);
    }
  }

  /** Requests that will get no reply any more: counted, and errors of class `timeout.OP` / `unanswered.OP`. */
  private countUnanswered(entry: Entry, cls: 'timeout' | 'unanswered'): void {
    const dropped = entry.peer.dropOutstanding();
    for (const [op, n] of Object.entries(dropped)) {
      if (n <= 0) continue;
      this.rec.counters.unanswered += n;
      this.rec.error(`${cls}.${op}`, n);
    }
  }

  /** Stops everything, closes the connections, and hands back the measurements. */
  async finish(): Promise<ShardResult> {
    this.stopping = true;
    this.schedule?.stop();
    const openAtEnd = this.open;
    for (const entry of this.entries) this.countUnanswered(entry, 'timeout');
    if (this.sampler) clearTimeout(this.sampler);
    this.sampler = null;
    this.sample();
    const closing = pLimit(500);
    await Promise.all(this.entries.map((e) => closing(() => e.peer.close(3000))));
    const loop = this.loop.windowStats();
    this.loop.stop();
    return {
      recorder: this.rec.encode(),
      timeline: this.timeline,
      loop,
      peakOpen: this.peakOpen,
      openAtEnd,
      rampConnected: this.rampConnected,
      rampRegistered: this.rampRegistered,
    };
  }

  /** Stops at once (tool error, interrupt): cuts every connection. */
  abort(): void {
    this.stopping = true;
    this.schedule?.stop();
    if (this.sampler) clearTimeout(this.sampler);
    this.sampler = null;
    for (const e of this.entries) e.peer.ws?.terminate();
    this.loop.stop();
  }

  progress(): Progress {
    const c = this.rec.counters;
    const relay = this.rec.histograms.relay;
    const cross = this.rec.histograms.relay_cross;
    const p99 = Math.max(relay.totalCount > 0 ? relay.getValueAtPercentile(99) : 0, cross.totalCount > 0 ? cross.getValueAtPercentile(99) : 0);
    return {
      open: this.open,
      registered: this.entries.reduce((a, e) => a + (e.peer.state === 'registered' ? 1 : 0), 0),
      relaysSent: c.relaysSent,
      relaysReceived: c.relaysReceived,
      ops: this.ops,
      errors: this.rec.errorTotal,
      relayP99Us: p99,
    };
  }

  // ---- Timeline

  /** Samples at every whole second since the run started; sample i covers second [i, i+1). */
  private startSampler(): void {
    const schedule = () => {
      const elapsed = nowUs() - this.init.runStartUs;
      const boundary = Math.max(this.lastSample + 2, Math.floor(elapsed / 1_000_000) + 1);
      this.sampler = setTimeout(() => {
        this.sample(boundary - 1);
        schedule();
      }, Math.max(1, (boundary * 1_000_000 - elapsed) / 1000));
      this.sampler.unref();
    };
    schedule();
  }

  private lastSample = -1;

  private sample(index?: number): void {
    // A late timer covers more than a second; indices stay unique so levels are not summed twice.
    const i = Math.max(this.lastSample + 1, index ?? Math.floor((nowUs() - this.init.runStartUs) / 1_000_000));
    this.lastSample = i;
    const loop = this.loop.takeInterval();
    const progress = this.progress();
    const iv = this.interval;
    const sample: TimelineSample = {
      i,
      open: progress.open,
      registered: progress.registered,
      relaysSent: iv.sent,
      relaysReceived: iv.received,
      ops: iv.ops,
      errors: this.rec.errorTotal - iv.errorsBefore,
      relay: encodeHistogram(iv.relay),
      loopP99Ms: loop.p99Ms,
      loopMaxMs: loop.maxMs,
      progress,
    };
    iv.relay.reset();
    iv.sent = iv.received = iv.ops = 0;
    iv.errorsBefore = this.rec.errorTotal;
    this.timeline.push(sample);
    this.onSample(sample);
  }

  // ---- PeerSink

  relay(peer: BenchPeer, from: number, seq: number, sentUs: number, atUs: number): void {
    const outcome = peer.accept(from, seq);
    const c = this.rec.counters;
    if (outcome === 'duplicate') {
      c.duplicated++;
      return;
    }
    c.relaysReceived++;
    this.interval.received++;
    if (outcome === 'reordered') c.reordered++;
    const sender = this.byIndex.get(from);
    if (this.closedLoop && sender) this.closedSend(sender);
    if (sentUs >= this.window.measureStartUs && sentUs < this.window.endUs) {
      const latency = atUs - sentUs;
      const receiver = this.byIndex.get(peer.index);
      const cross = sender !== undefined && receiver !== undefined && sender.plan.url !== receiver.plan.url;
      this.rec.record(cross ? 'relay_cross' : 'relay', latency);
      recordUs(this.interval.relay, latency);
    }
  }

  answer(_peer: BenchPeer, sentUs: number, atUs: number): void {
    this.completed('offer_answer', sentUs, atUs);
  }

  reply(_peer: BenchPeer, op: 'discover' | 'update_metadata', sentUs: number, atUs: number, ok: boolean): void {
    if (ok) this.completed(op, sentUs, atUs);
  }

  /** A round trip ended: recorded when measured, an error (timeout.OP) when later than request_timeout. */
  private completed(op: 'discover' | 'update_metadata' | 'offer_answer', sentUs: number, atUs: number): void {
    if (atUs - sentUs > this.init.scenario.requestTimeoutMs * 1000) {
      this.rec.error(`timeout.${op}`);
      return;
    }
    if (sentUs >= this.window.measureStartUs && sentUs < this.window.endUs) this.rec.record(op, atUs - sentUs);
  }

  error(_peer: BenchPeer, cls: string): void {
    this.rec.error(cls);
  }

  closed(peer: BenchPeer, code: number, expected: boolean): void {
    this.open--;
    if (!expected) {
      this.rec.error(`close.${code}`);
      const entry = this.byIndex.get(peer.index);
      if (entry) this.countUnanswered(entry, 'unanswered');
    }
  }

  presence(): void {
    this.rec.counters.presenceEvents++;
  }
}

import pLimit from 'p-limit';
import { nowUs } from '../clock.js';
import { LoopMonitor, type LoopStats } from '../monitor.js';
import { Random } from '../random.js';
import { Recorder, type EncodedRecorder } from '../recorder.js';
import { Churn } from './churn.js';
import type { ShardContext, ShardInit, TrafficWindow, WindowPart } from './context.js';
import { drain } from './drain.js';
import { countUnanswered, Inbound } from './inbound.js';
import { ShardPeers } from './peers.js';
import { Ramp } from './ramp.js';
import { Reconnect } from './reconnect.js';
import { StormLedger, type StormTally } from './storm-ledger.js';
import { newIntervalCounts, Timeline, type Progress, type TimelineSample } from './timeline.js';
import { Traffic } from './traffic.js';

/**
 * One generator thread's share of the run: whole rooms of peers (so every relay starts and ends
 * in the same thread, on the same clock). Its parts: the connect ramp, the traffic window's parts
 * (traffic, churn, reconnects and storms), the drain, the timeline, and the inbound side that accounts for what arrives.
 */

export interface ShardResult {
  readonly recorder: EncodedRecorder;
  readonly timeline: TimelineSample[];
  readonly loop: LoopStats;
  readonly peakOpen: number;
  readonly openAtEnd: number;
  readonly rampConnected: number;
  readonly rampRegistered: number;
  readonly storms: StormTally[];
}

export class Shard {
  private readonly ctx: ShardContext;
  private readonly loop = new LoopMonitor();
  private readonly rampPart: Ramp;
  private readonly trafficPart: Traffic;
  /** What runs over the traffic window, side by side. */
  private readonly windowParts: readonly WindowPart[];
  private readonly timeline: Timeline;
  /** Called after each timeline sample (worker threads post it to the main thread). */
  onSample: (sample: TimelineSample) => void = () => {};

  constructor(init: ShardInit) {
    const s = init.scenario;
    this.ctx = {
      init,
      scenario: s,
      peers: new ShardPeers(),
      rec: new Recorder(),
      random: new Random((s.seed * 2654435761 + init.shard * 40503 + 1) >>> 0),
      interval: newIntervalCounts(),
      connections: { open: 0, peakOpen: 0, rampConnected: 0, rampRegistered: 0 },
      window: { startUs: Infinity, measureStartUs: Infinity, endUs: Infinity },
      storms: new StormLedger(s.faults, s.requestTimeoutMs * 1000),
    };
    this.rampPart = new Ramp(this.ctx);
    this.trafficPart = new Traffic(this.ctx);
    const reconnect = new Reconnect(this.ctx, this.rampPart);
    this.windowParts = [this.trafficPart, new Churn(this.ctx, this.rampPart), reconnect];
    const inbound = new Inbound(this.ctx, this.trafficPart, reconnect);
    for (const plan of init.peers) this.ctx.peers.add(plan, inbound);
    this.timeline = new Timeline(init.runStartUs, this.ctx.interval, this.ctx.rec, this.loop, () => this.progress(), (sample) => this.onSample(sample));
    this.timeline.start();
  }

  /** Connects and registers this shard's peers at its share of the connect rate; resolves with how many registered. */
  ramp(startUs: number): Promise<number> {
    return this.rampPart.run(startUs);
  }

  /** Runs the traffic of the window (warm-up, measure) with its other parts (churn), then drains; resolves when done. */
  async traffic(window: TrafficWindow): Promise<void> {
    Object.assign(this.ctx.window, window);
    this.ctx.storms.begin(window);
    const measureTimer = setTimeout(() => this.loop.resetWindow(), Math.max(0, (window.measureStartUs - nowUs()) / 1000));
    await Promise.all(this.windowParts.map((part) => part.run(window)));
    clearTimeout(measureTimer);
    await drain(this.ctx.peers, this.ctx.rec.counters, this.ctx.scenario.drainMs);
  }

  /** Stops everything, closes the connections, and hands back the measurements. */
  async finish(): Promise<ShardResult> {
    this.stop();
    const { peers, rec, connections } = this.ctx;
    const openAtEnd = connections.open;
    for (const entry of peers.entries) countUnanswered(rec, entry, 'timeout');
    this.timeline.stop();
    this.timeline.sample();
    const closing = pLimit(500);
    await Promise.all(peers.entries.map((e) => closing(() => e.peer.close(3000))));
    const loop = this.loop.windowStats();
    this.loop.stop();
    return {
      recorder: rec.encode(),
      timeline: this.timeline.samples,
      loop,
      peakOpen: connections.peakOpen,
      openAtEnd,
      rampConnected: connections.rampConnected,
      rampRegistered: connections.rampRegistered,
      storms: this.ctx.storms.encode(),
    };
  }

  /** Stops at once (tool error, interrupt): cuts every connection. */
  abort(): void {
    this.stop();
    this.timeline.stop();
    for (const e of this.ctx.peers.entries) e.peer.ws?.terminate();
    this.loop.stop();
  }

  progress(): Progress {
    const { rec, peers, connections } = this.ctx;
    const c = rec.counters;
    const relay = rec.histograms.relay;
    const cross = rec.histograms.relay_cross;
    const p99 = Math.max(relay.totalCount > 0 ? relay.getValueAtPercentile(99) : 0, cross.totalCount > 0 ? cross.getValueAtPercentile(99) : 0);
    return {
      open: connections.open,
      registered: peers.registered(),
      relaysSent: c.relaysSent,
      relaysReceived: c.relaysReceived,
      ops: this.trafficPart.ops,
      errors: rec.errorTotal,
      relayP99Us: p99,
    };
  }

  private stop(): void {
    this.rampPart.stop();
    for (const part of this.windowParts) part.stop();
  }
}

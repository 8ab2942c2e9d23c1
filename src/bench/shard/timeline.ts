import type { Histogram } from 'hdr-histogram-js';
import { nowUs } from '../clock.js';
import type { LoopMonitor } from '../monitor.js';
import { encodeHistogram, newHistogram, type Recorder } from '../recorder.js';

/**
 * The shard's timeline: a sample at every whole second since the run started (sample i covers
 * second [i, i+1)), with the counts of that second and the live progress.
 */

/** Connections open and peers registered now; relays, operations and errors counted over a span. */
interface Tally {
  readonly open: number;
  readonly registered: number;
  readonly relaysSent: number;
  readonly relaysReceived: number;
  readonly ops: number;
  readonly errors: number;
}

/** The tally since the run started. */
export interface Progress extends Tally {
  /** p99 of the relays recorded so far (µs), 0 when none yet. */
  readonly relayP99Us: number;
}

/** The tally within one second. */
export interface TimelineSample extends Tally {
  /** Second since the run started. */
  readonly i: number;
  /** Relay latencies (all relays, µs) recorded within this second, encoded. */
  readonly relay: string;
  readonly loopP99Ms: number;
  readonly loopMaxMs: number;
  readonly progress: Progress;
}

/** Counts of the second in progress: the traffic and the inbound side add to them, a sample takes and resets them. */
export interface IntervalCounts {
  readonly relay: Histogram;
  sent: number;
  received: number;
  ops: number;
  errorsBefore: number;
}

export function newIntervalCounts(): IntervalCounts {
  return { relay: newHistogram(), sent: 0, received: 0, ops: 0, errorsBefore: 0 };
}

export class Timeline {
  readonly samples: TimelineSample[] = [];
  private sampler: NodeJS.Timeout | null = null;
  private lastSample = -1;

  constructor(
    private readonly runStartUs: number,
    private readonly interval: IntervalCounts,
    private readonly rec: Recorder,
    private readonly loop: LoopMonitor,
    private readonly progress: () => Progress,
    private readonly onSample: (sample: TimelineSample) => void,
  ) {}

  /** Samples at every whole second from now on. */
  start(): void {
    const schedule = () => {
      const elapsed = nowUs() - this.runStartUs;
      const boundary = Math.max(this.lastSample + 2, Math.floor(elapsed / 1_000_000) + 1);
      this.sampler = setTimeout(() => {
        this.sample(boundary - 1);
        schedule();
      }, Math.max(1, (boundary * 1_000_000 - elapsed) / 1000));
      this.sampler.unref();
    };
    schedule();
  }

  stop(): void {
    if (this.sampler) clearTimeout(this.sampler);
    this.sampler = null;
  }

  /** Takes the sample of second `index` (default: the current one). */
  sample(index?: number): void {
    // A late timer covers more than a second; indices stay unique so levels are not summed twice.
    const i = Math.max(this.lastSample + 1, index ?? Math.floor((nowUs() - this.runStartUs) / 1_000_000));
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
    this.samples.push(sample);
    this.onSample(sample);
  }
}

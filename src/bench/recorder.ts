import * as hdr from 'hdr-histogram-js';
import type { Histogram } from 'hdr-histogram-js';

/**
 * Measurements of one generator thread: an HDR histogram (microseconds) per operation, the
 * schedule lag, counters, and errors by class. Everything encodes to plain data so worker
 * threads can hand it to the main thread, which merges.
 */

export const OPS = ['connect', 'register', 'discover', 'update_metadata', 'offer_answer', 'relay', 'relay_cross'] as const;
export type Op = (typeof OPS)[number];

/** Highest value a histogram tracks: 10 minutes, in µs (larger values are clamped). */
const HIGHEST_US = 600_000_000;

export function newHistogram(): Histogram {
  return hdr.build({ bitBucketSize: 32, autoResize: true, lowestDiscernibleValue: 1, highestTrackableValue: HIGHEST_US, numberOfSignificantValueDigits: 3 });
}

export function recordUs(h: Histogram, us: number): void {
  h.recordValue(Math.min(HIGHEST_US, Math.max(1, Math.round(us))));
}

export function encodeHistogram(h: Histogram): string {
  return hdr.encodeIntoCompressedBase64(h);
}

export function decodeHistogram(text: string): Histogram {
  const h = newHistogram();
  if (text) h.add(hdr.decodeFromCompressedBase64(text));
  return h;
}

export interface Counters {
  /** Operations the schedule asked for (inside the measured window). */
  scheduled: number;
  /** Of those, the ones whose send left later than `late_after`. */
  late: number;
  /** Of those, the ones not sent because the peer (or its target) was away. */
  skippedOffline: number;
  /** Relayed messages sent and received, over the whole run (warm-up included). */
  relaysSent: number;
  relaysCrossSent: number;
  relaysReceived: number;
  duplicated: number;
  reordered: number;
  connectAttempts: number;
  connected: number;
  registered: number;
  churnLeft: number;
  churnRejoined: number;
  churnFailed: number;
  presenceEvents: number;
  /** Requests still unanswered at the end (also counted as timeout errors). */
  unanswered: number;
}

export function emptyCounters(): Counters {
  return {
    scheduled: 0,
    late: 0,
    skippedOffline: 0,
    relaysSent: 0,
    relaysCrossSent: 0,
    relaysReceived: 0,
    duplicated: 0,
    reordered: 0,
    connectAttempts: 0,
    connected: 0,
    registered: 0,
    churnLeft: 0,
    churnRejoined: 0,
    churnFailed: 0,
    presenceEvents: 0,
    unanswered: 0,
  };
}

export interface EncodedRecorder {
  readonly histograms: Record<Op, string>;
  readonly lag: string;
  readonly counters: Counters;
  readonly errors: Record<string, number>;
}

export class Recorder {
  readonly histograms = Object.fromEntries(OPS.map((op) => [op, newHistogram()])) as Record<Op, Histogram>;
  /** How late sends left against their schedule (µs). */
  readonly lag = newHistogram();
  readonly counters = emptyCounters();
  readonly errors = new Map<string, number>();
  errorTotal = 0;

  record(op: Op, us: number): void {
    recordUs(this.histograms[op], us);
  }

  error(cls: string, n = 1): void {
    this.errors.set(cls, (this.errors.get(cls) ?? 0) + n);
    this.errorTotal += n;
  }

  encode(): EncodedRecorder {
    return {
      histograms: Object.fromEntries(OPS.map((op) => [op, encodeHistogram(this.histograms[op])])) as Record<Op, string>,
      lag: encodeHistogram(this.lag),
      counters: { ...this.counters },
      errors: Object.fromEntries(this.errors),
    };
  }

  /** Adds another recorder's data (e.g. a worker thread's) into this one. */
  merge(other: EncodedRecorder): void {
    for (const op of OPS) this.histograms[op].add(decodeHistogram(other.histograms[op]));
    this.lag.add(decodeHistogram(other.lag));
    for (const key of Object.keys(this.counters) as (keyof Counters)[]) this.counters[key] += other.counters[key];
    for (const [cls, n] of Object.entries(other.errors)) this.error(cls, n);
  }
}

export interface HistogramStats {
  count: number;
  mean_us: number;
  p50_us: number;
  p90_us: number;
  p99_us: number;
  p999_us: number;
  max_us: number;
}

export function histogramStats(h: Histogram): HistogramStats {
  const count = h.totalCount;
  if (count === 0) return { count: 0, mean_us: 0, p50_us: 0, p90_us: 0, p99_us: 0, p999_us: 0, max_us: 0 };
  return {
    count,
    mean_us: Math.round(h.mean * 10) / 10,
    p50_us: h.getValueAtPercentile(50),
    p90_us: h.getValueAtPercentile(90),
    p99_us: h.getValueAtPercentile(99),
    p999_us: h.getValueAtPercentile(99.9),
    max_us: h.maxValue,
  };
}

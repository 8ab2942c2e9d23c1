import { nowUs } from './clock.js';
import type { Random } from './random.js';
import type { Arrival } from './scenario/schema.js';

/**
 * The open-model schedule: every sender has its own arrival process (fixed interval or Poisson)
 * and its next operation is due at a time fixed in advance, whatever happened to the previous
 * one. Latencies are measured from that intended time, so a stalled generator or server shows up
 * in the numbers (no coordinated omission), and sends that leave late are counted.
 */

/** Gap to the next arrival, in µs, for a process of `rate` per second. */
export function nextGapUs(arrival: Arrival, rate: number, random: Random): number {
  const mean = 1_000_000 / rate;
  return arrival === 'fixed' ? mean : random.exponential(mean);
}

/** A binary min-heap of (time, id). */
export class TimerHeap {
  private times: number[] = [];
  private ids: number[] = [];

  get size(): number {
    return this.times.length;
  }

  peekTime(): number {
    return this.times[0] ?? Infinity;
  }

  push(time: number, id: number): void {
    const { times, ids } = this;
    let i = times.length;
    times.push(time);
    ids.push(id);
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (times[parent]! <= time) break;
      times[i] = times[parent]!;
      ids[i] = ids[parent]!;
      i = parent;
    }
    times[i] = time;
    ids[i] = id;
  }

  /** Removes the earliest entry and returns its id (call only when size > 0). */
  pop(): number {
    const { times, ids } = this;
    const top = ids[0]!;
    const lastTime = times.pop()!;
    const lastId = ids.pop()!;
    const n = times.length;
    if (n > 0) {
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        if (l >= n) break;
        const r = l + 1;
        const c = r < n && times[r]! < times[l]! ? r : l;
        if (times[c]! >= lastTime) break;
        times[i] = times[c]!;
        ids[i] = ids[c]!;
        i = c;
      }
      times[i] = lastTime;
      ids[i] = lastId;
    }
    return top;
  }

  clear(): void {
    this.times = [];
    this.ids = [];
  }
}

export interface ScheduleOptions {
  readonly arrival: Arrival;
  /** Operations per second of each id. */
  readonly rate: number;
  readonly random: Random;
  /** Nothing is due at or after this time. */
  readonly endUs: number;
  /** Called for each due operation: its id, the time it was due, and now. */
  readonly due: (id: number, intendedUs: number, nowUs: number) => void;
}

/**
 * Runs the schedule: wakes when the earliest operation is due, runs everything that is due, and
 * sleeps again. Resolves once nothing is left before `endUs` (or on stop()).
 */
export class OpenLoopSchedule {
  private readonly heap = new TimerHeap();
  private timeout: NodeJS.Timeout | null = null;
  private immediate: NodeJS.Immediate | null = null;
  private resolveDone: (() => void) | null = null;
  private stopped = false;
  readonly done: Promise<void>;

  constructor(private readonly options: ScheduleOptions) {
    this.done = new Promise((resolve) => (this.resolveDone = resolve));
  }

  /**
   * Adds an id. Its first operation comes a random phase into its first interval (fixed), or after
   * an exponential gap (Poisson, which is then stationary from the start): no burst at the start.
   */
  add(id: number, startUs: number): void {
    const { arrival, rate, random } = this.options;
    if (rate <= 0) return;
    const first = arrival === 'poisson' ? nextGapUs('poisson', rate, random) : random.next() * (1_000_000 / rate);
    this.heap.push(startUs + first, id);
  }

  start(): void {
    this.wake();
  }

  stop(): void {
    this.stopped = true;
    this.clearTimer();
    this.heap.clear();
    this.resolveDone?.();
  }

  private clearTimer(): void {
    if (this.timeout !== null) clearTimeout(this.timeout);
    if (this.immediate !== null) clearImmediate(this.immediate);
    this.timeout = null;
    this.immediate = null;
  }

  private readonly tick = (): void => {
    this.timeout = null;
    this.immediate = null;
    if (this.stopped) return;
    const { arrival, rate, random, endUs, due } = this.options;
    const heap = this.heap;
    let now = nowUs();
    let n = 0;
    while (heap.size > 0 && heap.peekTime() <= now) {
      const at = heap.peekTime();
      const id = heap.pop();
      if (at >= endUs) continue;
      due(id, at, now);
      const nextAt = at + nextGapUs(arrival, rate, random);
      if (nextAt < endUs) heap.push(nextAt, id);
      if (++n % 64 === 0) now = nowUs();
    }
    this.wake();
  };

  private wake(): void {
    if (this.stopped) return;
    const nextAt = this.heap.peekTime();
    if (this.heap.size === 0 || nextAt >= this.options.endUs) {
      this.heap.clear();
      this.resolveDone?.();
      return;
    }
    // Timers have a 1 ms granularity; spinning on setImmediate for sub-millisecond gaps would
    // burn a core the server (often on the same host) needs. Due operations go out in batches.
    const waitMs = (nextAt - nowUs()) / 1000;
    if (waitMs <= 0) this.immediate = setImmediate(this.tick);
    else this.timeout = setTimeout(this.tick, Math.max(1, Math.floor(waitMs)));
  }
}

import { monitorEventLoopDelay, type IntervalHistogram } from 'node:perf_hooks';

/**
 * The generator watching itself: event-loop delay of each thread and the CPU of the process.
 * A generator whose loop stalls, or that uses all of its CPU, measures itself rather than the
 * server; the run is then marked invalid.
 */

const RESOLUTION_MS = 10;

export interface LoopStats {
  /** Delay beyond the sampling interval, in ms. */
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly maxMs: number;
}

function stats(h: IntervalHistogram): LoopStats {
  if (h.count === 0) return { p50Ms: 0, p99Ms: 0, maxMs: 0 };
  const ms = (ns: number) => Math.max(0, Math.round((ns / 1e6 - RESOLUTION_MS) * 100) / 100);
  return { p50Ms: ms(h.percentile(50)), p99Ms: ms(h.percentile(99)), maxMs: ms(h.max) };
}

/** Event-loop delay of the current thread: over a window (the measured phase) and per interval. */
export class LoopMonitor {
  private readonly window = monitorEventLoopDelay({ resolution: RESOLUTION_MS });
  private readonly interval = monitorEventLoopDelay({ resolution: RESOLUTION_MS });

  constructor() {
    this.window.enable();
    this.interval.enable();
  }

  /** Starts the window over (at the start of the measured phase). */
  resetWindow(): void {
    this.window.reset();
  }

  windowStats(): LoopStats {
    return stats(this.window);
  }

  /** Stats since the previous call. */
  takeInterval(): LoopStats {
    const s = stats(this.interval);
    this.interval.reset();
    return s;
  }

  stop(): void {
    this.window.disable();
    this.interval.disable();
  }
}

/** CPU of the whole process (all its threads), as a share of one core. */
export class CpuMonitor {
  private last = process.cpuUsage();
  private lastAt = performance.now();
  private windowStart = process.cpuUsage();
  private windowAt = performance.now();

  /** Share of one core used since the previous call. */
  take(): number {
    const now = performance.now();
    const usage = process.cpuUsage(this.last);
    const share = (usage.user + usage.system) / 1000 / Math.max(1, now - this.lastAt);
    this.last = process.cpuUsage();
    this.lastAt = now;
    return share;
  }

  resetWindow(): void {
    this.windowStart = process.cpuUsage();
    this.windowAt = performance.now();
  }

  /** Share of one core used since resetWindow(). */
  windowShare(): number {
    const usage = process.cpuUsage(this.windowStart);
    return (usage.user + usage.system) / 1000 / Math.max(1, performance.now() - this.windowAt);
  }
}

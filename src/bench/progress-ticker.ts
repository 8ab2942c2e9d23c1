import { nowUs } from './clock.js';
import type { CpuMonitor } from './monitor.js';
import type { Scenario } from './scenario/scenario.js';
import type { ShardHandle } from './shard-host.js';
import type { Progress } from './shard/timeline.js';

/**
 * Once a second during a run: the generator's CPU of that second (for the timeline) and the live
 * progress over every thread (for the progress line).
 */

export type Phase = 'ramp' | 'warmup' | 'measure' | 'drain' | 'closing';

export interface LiveProgress {
  readonly phase: Phase;
  readonly elapsedS: number;
  readonly peers: number;
  readonly open: number;
  readonly registered: number;
  readonly relaysPerS: number;
  readonly opsPerS: number;
  readonly errors: number;
  readonly relayP99Us: number;
  /** How long the run is planned to take: the ramp at the connect rate, warm-up, measuring, drain. */
  readonly plannedS: number;
}

export class ProgressTicker {
  /** The phase the run is in, set by the runner. */
  phase: Phase = 'ramp';
  /** Generator CPU (share of one core) of each second, by timeline index. */
  readonly cpuBySecond = new Map<number, number>();
  private timer: NodeJS.Timeout | null = null;
  private last = { at: nowUs(), relays: 0, ops: 0 };

  constructor(
    private readonly handles: readonly ShardHandle[],
    private readonly scenario: Scenario,
    private readonly runStartUs: number,
    private readonly cpu: CpuMonitor,
    private readonly onProgress?: (progress: LiveProgress) => void,
  ) {}

  /** Ticks at every whole second of the run from now on. */
  start(): void {
    const elapsed = nowUs() - this.runStartUs;
    const next = (Math.floor(elapsed / 1_000_000) + 1) * 1_000_000;
    this.timer = setTimeout(() => {
      this.tick();
      this.start();
    }, Math.max(1, (next - elapsed) / 1000));
  }

  stop(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }

  tick(): void {
    const i = Math.max(0, Math.floor((nowUs() - this.runStartUs) / 1_000_000) - 1);
    this.cpuBySecond.set(i, this.cpu.take());
    const all = this.handles.map((h) => h.progress()).filter((p): p is Progress => p !== null);
    const sum = (f: (p: Progress) => number) => all.reduce((a, p) => a + f(p), 0);
    const at = nowUs();
    const relays = sum((p) => p.relaysReceived);
    const ops = sum((p) => p.ops);
    const dt = Math.max(1e-3, (at - this.last.at) / 1_000_000);
    this.onProgress?.({
      phase: this.phase,
      elapsedS: (at - this.runStartUs) / 1_000_000,
      peers: this.scenario.peers,
      open: sum((p) => p.open),
      registered: sum((p) => p.registered),
      relaysPerS: (relays - this.last.relays) / dt,
      opsPerS: (ops - this.last.ops) / dt,
      errors: sum((p) => p.errors),
      relayP99Us: Math.max(0, ...all.map((p) => p.relayP99Us)),
      plannedS: plannedSeconds(this.scenario),
    });
    this.last = { at, relays, ops };
  }
}

/** The run's planned length in seconds: the ramp at the connect rate, warm-up, measuring, drain. */
export function plannedSeconds(s: { readonly peers: number; readonly connect: { readonly rate: number }; readonly warmupMs: number; readonly durationMs: number; readonly drainMs: number }): number {
  return s.peers / s.connect.rate + (s.warmupMs + s.durationMs + s.drainMs) / 1000;
}

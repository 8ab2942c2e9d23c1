import type { ChildProcess } from 'node:child_process';
import { nowUs } from './clock.js';
import type { Fault } from './scenario/scenario.js';
import type { TrafficWindow } from './shard/context.js';

/**
 * The scenario's faults, done to the spawned serve processes on schedule (times from the start of
 * the traffic): kill is SIGKILL (the sockets are cut, the instance's records stay in Redis until
 * another instance's reaper removes them); drain is SIGTERM (the instance spreads 1012 closes
 * over its --drain-timeout, then exits).
 */

/** What became of one fault: when its signal went (µs, the bench clock) and when the process exited. */
export interface FaultOutcome {
  readonly fault: Fault;
  readonly plannedUs: number;
  readonly signalledUs: number | null;
  readonly exitedUs: number | null;
}

const SIGNALS = { kill: 'SIGKILL', drain: 'SIGTERM' } as const;

export class FaultInjector {
  private readonly timers: NodeJS.Timeout[] = [];
  private readonly outcomes: { -readonly [K in keyof FaultOutcome]: FaultOutcome[K] }[];

  constructor(
    faults: readonly Fault[],
    /** The spawned processes, by instance index. */
    private readonly processes: readonly ChildProcess[],
  ) {
    this.outcomes = faults.map((fault) => ({ fault, plannedUs: Infinity, signalledUs: null, exitedUs: null }));
  }

  /** Schedules every fault in the traffic window. */
  arm(window: TrafficWindow): void {
    for (const outcome of this.outcomes) {
      outcome.plannedUs = window.startUs + outcome.fault.atMs * 1000;
      const child = this.processes[outcome.fault.instance];
      if (!child) continue;
      this.timers.push(
        setTimeout(() => {
          if (child.exitCode !== null || child.signalCode !== null) return;
          child.once('exit', () => (outcome.exitedUs = nowUs()));
          outcome.signalledUs = nowUs();
          child.kill(SIGNALS[outcome.fault.action]);
        }, Math.max(0, (outcome.plannedUs - nowUs()) / 1000)),
      );
    }
  }

  /** Cancels the faults not done yet. */
  disarm(): void {
    this.timers.forEach(clearTimeout);
    this.timers.length = 0;
  }

  results(): FaultOutcome[] {
    return this.outcomes.map((o) => ({ ...o }));
  }
}

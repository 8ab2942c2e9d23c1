import type { LoopStats } from './monitor.js';
import { decodeHistogram, Recorder } from './recorder.js';
import type { MergedTimelinePoint, RunFacts } from './report-json.js';
import type { TrafficWindow } from './shard/context.js';
import type { ShardResult } from './shard/shard.js';

/** What every generator thread measured, merged into one: recorder, event loop, timeline, connection counts. */

export interface RunBounds {
  readonly runStartUs: number;
  readonly rampEndUs: number;
  readonly window: TrafficWindow;
}

export type MergedShards = Pick<RunFacts, 'recorder' | 'timeline' | 'loop' | 'peakOpen' | 'openAtEnd' | 'rampConnected' | 'rampRegistered'>;

export function mergeShards(results: readonly ShardResult[], bounds: RunBounds, cpuBySecond: ReadonlyMap<number, number>): MergedShards {
  const recorder = new Recorder();
  for (const r of results) recorder.merge(r.recorder);
  const sum = (f: (r: ShardResult) => number) => results.reduce((a, r) => a + f(r), 0);
  return {
    recorder,
    timeline: mergeTimelines(results, bounds, cpuBySecond),
    loop: worstLoop(results),
    peakOpen: sum((r) => r.peakOpen),
    openAtEnd: sum((r) => r.openAtEnd),
    rampConnected: sum((r) => r.rampConnected),
    rampRegistered: sum((r) => r.rampRegistered),
  };
}

/** The worst thread's event loop, statistic by statistic. */
function worstLoop(results: readonly ShardResult[]): LoopStats {
  return results.reduce(
    (w, r) => ({ p50Ms: Math.max(w.p50Ms, r.loop.p50Ms), p99Ms: Math.max(w.p99Ms, r.loop.p99Ms), maxMs: Math.max(w.maxMs, r.loop.maxMs) }),
    { p50Ms: 0, p99Ms: 0, maxMs: 0 },
  );
}

/** The threads' samples summed second by second (levels and counts; the worst loop; relay latencies merged), with the phase of each second. */
function mergeTimelines(results: readonly ShardResult[], bounds: RunBounds, cpuBySecond: ReadonlyMap<number, number>): RunFacts['timeline'] {
  const { runStartUs, rampEndUs, window } = bounds;
  const phaseOf = (i: number): MergedTimelinePoint['phase'] => {
    const mid = runStartUs + (i + 0.5) * 1_000_000;
    if (mid < rampEndUs) return 'ramp';
    if (mid < window.measureStartUs) return 'warmup';
    if (mid < window.endUs) return 'measure';
    return 'drain';
  };
  const points = new Map<number, MergedTimelinePoint & { hist: ReturnType<typeof decodeHistogram> }>();
  for (const r of results) {
    for (const sample of r.timeline) {
      let p = points.get(sample.i);
      if (!p) {
        p = { i: sample.i, phase: phaseOf(sample.i), open: 0, registered: 0, relaysSent: 0, relaysReceived: 0, ops: 0, errors: 0, loopP99Ms: 0, cpu: cpuBySecond.get(sample.i) ?? 0, hist: decodeHistogram('') };
        points.set(sample.i, p);
      }
      p.open += sample.open;
      p.registered += sample.registered;
      p.relaysSent += sample.relaysSent;
      p.relaysReceived += sample.relaysReceived;
      p.ops += sample.ops;
      p.errors += sample.errors;
      p.loopP99Ms = Math.max(p.loopP99Ms, sample.loopP99Ms);
      p.hist.add(decodeHistogram(sample.relay));
    }
  }
  return [...points.values()]
    .sort((a, b) => a.i - b.i)
    .map(({ hist, ...p }) => ({
      ...p,
      relayP50Us: hist.totalCount > 0 ? hist.getValueAtPercentile(50) : null,
      relayP99Us: hist.totalCount > 0 ? hist.getValueAtPercentile(99) : null,
    }));
}

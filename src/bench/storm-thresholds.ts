import { countOfClass } from './class-counts.js';
import type { BenchReport } from './report-schema.js';
import { LOST_CLASSES } from './shard/lost-class.js';
import type { StormReport } from './storm-report.js';

/**
 * The storm metrics of thresholds (`storm.back.last<5s`, `storm.failed==0`, ...), over every storm
 * of a run: a time is the worst storm's, a count the sum of all. thresholds.ts parses and compares.
 */

/** Times, in µs: the worst storm's. */
const TIMES: Record<string, (s: StormReport) => number | null> = {
  'back.p50': (s) => s.back_ms?.p50 ?? null,
  'back.p99': (s) => s.back_ms?.p99 ?? null,
  'back.last': (s) => s.back_ms?.last ?? null,
  'down.p50': (s) => s.down_ms?.p50 ?? null,
  'down.p99': (s) => s.down_ms?.p99 ?? null,
  'down.last': (s) => s.down_ms?.last ?? null,
  'gone.p50': (s) => s.discovery.gone_ms?.p50 ?? null,
  'gone.max': (s) => s.discovery.gone_ms?.max ?? null,
};

/** Counts, and the base a share (%) of each is taken of. */
const COUNTS: Record<string, (s: StormReport) => [number, number]> = {
  displaced: (s) => [s.displaced, s.displaced],
  abandoned: (s) => [s.abandoned, s.displaced],
  back: (s) => [s.back, s.displaced - s.abandoned],
  not_back: (s) => [s.not_back, s.displaced - s.abandoned],
  failed: (s) => [s.failures.total, s.attempts],
  peer_id_taken: (s) => [s.failures.peer_id_taken, s.attempts],
  listed_twice: (s) => [s.listed_twice, 1],
  still_listed: (s) => [s.discovery.still_listed, s.discovery.abandoned_watched],
  lost: (s) => [s.relays.lost, s.relays.sent],
  refused: (s) => [s.relays.refused, s.relays.sent],
};
for (const c of LOST_CLASSES) COUNTS[`lost.${c}`] = (s) => [s.relays.lost_by_cause?.[c] ?? 0, s.relays.sent];

export const STORM_TIME_METRICS = Object.keys(TIMES);
export const STORM_COUNT_METRICS = [...Object.keys(COUNTS), 'failed.CLASS'];

/** Whether `name` (after `storm.`) is a time, a count, or no storm metric. */
export function stormMetricKind(name: string): 'latency' | 'count' | null {
  if (name in TIMES) return 'latency';
  return name in COUNTS || name.startsWith('failed.') ? 'count' : null;
}

/** The value of `storm.NAME` in a report (µs for times) and the base of a share; null when the run had no storm. */
export function measureStorm(name: string, r: BenchReport): { value: number | null; base: number; detail?: string } {
  const storms = r.storms ?? [];
  if (storms.length === 0) return { value: null, base: 1, detail: 'no storm in this run (the scenario has no faults)' };
  const time = TIMES[name];
  if (time) {
    const values = storms.map(time).filter((v): v is number => v !== null);
    return values.length > 0 ? { value: Math.max(...values) * 1000, base: 1 } : { value: null, base: 1, detail: `no storm measured ${name}` };
  }
  if (name.startsWith('lost.') && storms.some((s) => s.relays.lost_by_cause === undefined)) {
    return { value: null, base: 1, detail: 'the report does not split lost relays by cause (an older version)' };
  }
  let value = 0;
  let base = 0;
  for (const s of storms) {
    const [v, b] = name.startsWith('failed.') ? [countOfClass(s.failures.by_class, name.slice('failed.'.length)), s.attempts] : COUNTS[name]!(s);
    value += v;
    base += b;
  }
  return { value, base };
}

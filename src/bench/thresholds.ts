import { DURATION_UNIT_PATTERN, DURATION_UNITS, isDurationUnit, unitMs } from '../options/duration.js';
import { countOfClass } from './class-counts.js';
import type { BenchReport } from './report-schema.js';
import { measureStorm, STORM_COUNT_METRICS, STORM_TIME_METRICS, stormMetricKind } from './storm-thresholds.js';

/**
 * Pass/fail conditions on a run: `relay.p99<20ms`, `errors==0`, `lost<0.1%`, `relay.rate>=900`,
 * `errors.connect==0`, `registered==100%`, `server_cpu_per_relay<100us` (with --spawn), `storm.back.last<5s`
 * (storm-thresholds.ts). Evaluated against the JSON report, so a saved report can be checked again later.
 */

export const LATENCY_OPS = ['connect', 'register', 'discover', 'update_metadata', 'offer_answer', 'relay', 'relay_cross'] as const;
export type LatencyOp = (typeof LATENCY_OPS)[number];
const STATS = ['p50', 'p90', 'p99', 'p99.9', 'p999', 'max', 'mean', 'count', 'rate'] as const;
type Stat = (typeof STATS)[number];
const COUNTERS = ['errors', 'lost', 'duplicated', 'reordered', 'late', 'connected', 'registered'] as const;
/** CPU the spawned servers spent per relay measured (all instances; needs --spawn): a latency-like unit. */
const SERVER_CPU_PER_RELAY = 'server_cpu_per_relay';
const COMPARATORS = ['<=', '>=', '==', '!=', '<', '>'] as const;
type Comparator = (typeof COMPARATORS)[number];

export type ThresholdKind = 'latency' | 'count' | 'rate' | 'share';

export interface Threshold {
  readonly expression: string;
  /** `relay.p99`, `errors`, `errors.connect`, `lost`, ... */
  readonly metric: string;
  readonly comparator: Comparator;
  /** In the metric's base unit: µs for latencies, a count, per second, or a share (0..1). */
  readonly limit: number;
  readonly kind: ThresholdKind;
  /** The unit it was written with (for display). */
  readonly unit: string;
}

export interface ThresholdResult {
  readonly expression: string;
  readonly ok: boolean;
  /** The measured value in the expression's unit; null when there was nothing to measure. */
  readonly actual: number | null;
  readonly limit: number;
  readonly unit: string;
  readonly detail: string;
}

// A time is a duration of the one grammar (src/options/duration.ts); µs is us as people write it.
const PATTERN = new RegExp(`^\\s*([a-z_]+(?:\\.[A-Za-z0-9_.]+)?)\\s*(<=|>=|==|!=|<|>)\\s*(\\d+(?:\\.\\d+)?)\\s*(${DURATION_UNIT_PATTERN}|µs|%|\\/s)?\\s*$`);

/** µs in one `unit` of a time, or undefined when it is none. */
function unitUs(unit: string): number | undefined {
  const name = unit === 'µs' ? 'us' : unit;
  return isDurationUnit(name) ? unitMs(name) * 1000 : undefined;
}

/** Parses one expression; throws an Error that says what is wrong and what would be right. */
export function parseThreshold(expression: string): Threshold {
  const m = PATTERN.exec(expression);
  if (!m) {
    throw new Error(`threshold "${expression}" is not METRIC OP VALUE[UNIT], e.g. "relay.p99<20ms", "errors==0", "lost<0.1%"`);
  }
  const [, metric, comparator, number, unitText] = m as unknown as [string, string, Comparator, string, string | undefined];
  const value = Number(number);
  const dot = metric.indexOf('.');
  const head = dot < 0 ? metric : metric.slice(0, dot);
  const tail = dot < 0 ? '' : metric.slice(dot + 1);

  if ((LATENCY_OPS as readonly string[]).includes(head)) {
    if (!(STATS as readonly string[]).includes(tail)) {
      throw new Error(`threshold "${expression}": ${head} has no statistic "${tail}"; use one of ${STATS.join(', ')}`);
    }
    const stat = tail as Stat;
    if (stat === 'count') return plain(expression, metric, comparator, value, unitText, 'count');
    if (stat === 'rate') {
      if (unitText !== undefined && unitText !== '/s') throw new Error(`threshold "${expression}": a rate is per second ("${metric}>100" or "100/s")`);
      return { expression, metric, comparator, limit: value, kind: 'rate', unit: '/s' };
    }
    return time(expression, stat === 'p999' ? `${head}.p99.9` : metric, comparator, value, unitText ?? 'ms', 'a latency');
  }
  if (metric === SERVER_CPU_PER_RELAY) return time(expression, metric, comparator, value, unitText ?? 'us', 'CPU time per relay');
  if (head === 'storm') {
    const kind = stormMetricKind(tail);
    if (kind === 'latency') return time(expression, metric, comparator, value, unitText ?? 'ms', 'a storm time');
    if (kind === 'count') return plain(expression, metric, comparator, value, unitText, 'count');
    throw new Error(`threshold "${expression}": unknown storm metric "${tail}"; use storm.NAME with NAME one of ${[...STORM_TIME_METRICS, ...STORM_COUNT_METRICS].join(', ')}`);
  }
  if ((COUNTERS as readonly string[]).includes(head)) {
    if (tail !== '' && head !== 'errors') throw new Error(`threshold "${expression}": ${head} takes no ".${tail}"`);
    return plain(expression, metric, comparator, value, unitText, 'count');
  }
  throw new Error(
    `threshold "${expression}": unknown metric "${metric}"; use OPERATION.STAT (operations: ${LATENCY_OPS.join(', ')}; stats: ${STATS.join(', ')}), one of ${COUNTERS.join(', ')} (errors.CLASS too), ${SERVER_CPU_PER_RELAY}, or storm.NAME`,
  );
}

/** A threshold on a time (µs inside), written with a duration unit. */
function time(expression: string, metric: string, comparator: Comparator, value: number, unit: string, what: string): Threshold {
  const scale = unitUs(unit);
  if (scale === undefined) throw new Error(`threshold "${expression}": ${what} takes a duration unit (${DURATION_UNITS.join(', ')}), not "${unit}"`);
  return { expression, metric, comparator, limit: value * scale, kind: 'latency', unit };
}

function plain(expression: string, metric: string, comparator: Comparator, value: number, unit: string | undefined, kind: 'count'): Threshold {
  if (unit === '%') return { expression, metric, comparator, limit: value / 100, kind: 'share', unit: '%' };
  if (unit !== undefined) throw new Error(`threshold "${expression}": a count takes no unit, or % (a share)`);
  return { expression, metric, comparator, limit: value, kind, unit: '' };
}

/** The value a metric had in a report: in base units, and the base a share is taken of. */
function measure(t: Threshold, r: BenchReport): { value: number | null; base: number; detail?: string } {
  const [head, ...rest] = t.metric.split('.');
  const tail = rest.join('.');
  if ((LATENCY_OPS as readonly string[]).includes(head!)) {
    const op = r.operations[head!];
    const count = op?.count ?? 0;
    if (tail === 'count') return { value: count, base: r.schedule.scheduled };
    if (tail === 'rate') return { value: op?.rate_per_s ?? 0, base: 1 };
    if (op === undefined || count === 0) return { value: null, base: 1, detail: `no ${head} samples` };
    const field = { p50: op.p50_us, p90: op.p90_us, p99: op.p99_us, 'p99.9': op.p999_us, max: op.max_us, mean: op.mean_us }[tail];
    return { value: field ?? null, base: 1 };
  }
  if (t.metric === SERVER_CPU_PER_RELAY) return serverCpuPerRelay(r);
  if (head === 'storm') return measureStorm(tail, r);
  const opsAttempted = r.schedule.scheduled + r.connections.peers + r.connections.churn.left;
  switch (head) {
    case 'errors': {
      if (tail === '') return { value: r.errors.total, base: opsAttempted };
      return { value: countOfClass(r.errors.by_class, tail), base: opsAttempted };
    }
    default: {
      const count = COUNTS[head as keyof typeof COUNTS];
      if (count === undefined) return { value: null, base: 1, detail: `unknown metric ${t.metric}` };
      const [value, base] = count(r);
      return { value, base };
    }
  }
}

/** Each counter but errors: its value in a report, and the base a share of it is taken of. */
const COUNTS: Record<Exclude<(typeof COUNTERS)[number], 'errors'>, (r: BenchReport) => [number, number]> = {
  lost: (r) => [r.relays.lost, r.relays.sent],
  duplicated: (r) => [r.relays.duplicated, r.relays.sent],
  reordered: (r) => [r.relays.reordered, r.relays.sent],
  late: (r) => [r.schedule.late, r.schedule.scheduled],
  connected: (r) => [r.connections.connected, r.connections.peers],
  registered: (r) => [r.connections.registered, r.connections.peers],
};

/** µs of server CPU (every spawned instance) per relay sent in the measured window. */
function serverCpuPerRelay(r: BenchReport): { value: number | null; base: number; detail?: string } {
  const cpu = r.run.spawned?.cpu;
  if (!cpu) return { value: null, base: 1, detail: 'server CPU is known only for servers the bench spawned (--spawn)' };
  if (cpu.instances.some((c) => c === null)) return { value: null, base: 1, detail: 'server CPU could not be read (/proc)' };
  const relays = (r.operations.relay?.count ?? 0) + (r.operations.relay_cross?.count ?? 0);
  if (relays === 0) return { value: null, base: 1, detail: 'no relays measured' };
  const cpuSeconds = cpu.instances.reduce<number>((a, c) => a + c!, 0) * r.phases.measure_s;
  return { value: (cpuSeconds * 1e6) / relays, base: 1 };
}

function compare(a: number, c: Comparator, b: number): boolean {
  const eps = 1e-9 * Math.max(1, Math.abs(b));
  switch (c) {
    case '<':
      return a < b;
    case '<=':
      return a <= b + eps;
    case '>':
      return a > b;
    case '>=':
      return a >= b - eps;
    case '==':
      return Math.abs(a - b) <= eps;
    case '!=':
      return Math.abs(a - b) > eps;
  }
}

export function evaluateThresholds(expressions: readonly string[], report: BenchReport): ThresholdResult[] {
  return expressions.map((expression) => {
    const t = parseThreshold(expression);
    const { value, base, detail } = measure(t, report);
    if (value === null) {
      return { expression, ok: false, actual: null, limit: display(t, t.limit), unit: t.unit, detail: detail ?? 'no data' };
    }
    const comparable = t.kind === 'share' ? (base > 0 ? value / base : 0) : value;
    const ok = compare(comparable, t.comparator, t.limit);
    const actual = display(t, comparable);
    return { expression, ok, actual, limit: display(t, t.limit), unit: t.unit, detail: `${formatNumber(actual)}${t.unit} ${ok ? 'meets' : 'fails'} ${t.comparator} ${formatNumber(display(t, t.limit))}${t.unit}` };
  });
}

/** A value in the unit the expression was written with. */
function display(t: Threshold, base: number): number {
  if (t.kind === 'latency') return base / unitUs(t.unit)!;
  if (t.kind === 'share') return base * 100;
  return base;
}

function formatNumber(n: number): string {
  if (Number.isInteger(n)) return String(n);
  return Math.abs(n) >= 100 ? n.toFixed(1) : Math.abs(n) >= 1 ? n.toFixed(2) : n.toPrecision(3);
}

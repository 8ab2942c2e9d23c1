import { decodeHistogram } from './recorder.js';
import type { BenchReport, TimelinePoint } from './report-schema.js';
import { count, OP_LABELS } from './report-table.js';
import { linearTicks, logTicks, plot, type Axis, type Band, type Plot, type Series } from './svg-plot.js';

/**
 * The plots of a report: latency by percentile per operation, and over time (relay latency,
 * throughput, connections, generator health) on the run's phases as background bands.
 */

const COLORS = ['#1f77b4', '#d62728', '#2ca02c', '#ff7f0e', '#9467bd', '#8c564b', '#e377c2', '#17becf'];
const PHASE_COLORS: Record<TimelinePoint['phase'], string> = { ramp: '#eef3fb', warmup: '#fdf6e3', measure: '#ffffff', drain: '#f3f3f3' };

const num = (v: number) => (Math.abs(v) >= 1000 ? count(Math.round(v)) : String(Math.round(v * 100) / 100));

export function percentilePlot(report: BenchReport): Plot | null {
  const series: Series[] = [];
  let lo = Infinity;
  let hi = 0;
  let maxX = 100;
  Object.entries(report.operations).forEach(([op, stats], k) => {
    if (stats.count === 0) return;
    const h = decodeHistogram(stats.histogram);
    const points: [number, number][] = [];
    // x = 1/(1-p): 1 at the median side of the plot, 10 at p90, 100 at p99, ...
    for (let e = 0; e <= 5.0001; e += 0.05) {
      const inv = 10 ** e;
      if (inv > h.totalCount * 2 && points.length > 0) break;
      const p = (1 - 1 / inv) * 100;
      const v = h.getValueAtPercentile(Math.min(p, 100)) / 1000;
      points.push([inv, v]);
      maxX = Math.max(maxX, inv);
    }
    for (const [, v] of points) {
      if (v > 0) lo = Math.min(lo, v);
      hi = Math.max(hi, v);
    }
    series.push({ name: OP_LABELS[op] ?? op, color: COLORS[k % COLORS.length]!, points });
  });
  if (series.length === 0) return null;
  const y = logTicks(Math.max(lo, 0.001), Math.max(hi, 0.01));
  const labels = ['0%', '90%', '99%', '99.9%', '99.99%', '99.999%'];
  const xMax = 10 ** Math.ceil(Math.log10(maxX));
  const xTicks = labels.map((label, i) => ({ v: 10 ** i, label })).filter((t) => t.v <= xMax);
  return plot(
    'latency-percentiles',
    'Latency by percentile, per operation (log scales; a flat line is good, a late climb is the tail)',
    { label: 'percentile', min: 1, max: xMax, ticks: xTicks, log: true },
    { label: 'latency (ms)', min: y.min, max: y.max, ticks: y.ticks, log: true },
    series,
  );
}

function phaseBands(timeline: readonly TimelinePoint[]): Band[] {
  const bands: Band[] = [];
  for (const p of timeline) {
    const last = bands[bands.length - 1];
    if (last && last.label === p.phase) bands[bands.length - 1] = { ...last, to: p.t_s + 1 };
    else bands.push({ from: p.t_s, to: p.t_s + 1, color: PHASE_COLORS[p.phase], label: p.phase });
  }
  return bands;
}

export function timePlots(report: BenchReport): Plot[] {
  const r = report;
  const tl = report.timeline;
  if (tl.length === 0) return [];
  const end = Math.max(...tl.map((p) => p.t_s)) + 1;
  const x = linearTicks(end, (v) => `${v}s`);
  const xAxis: Axis = { label: 'time since start (s)', min: 0, max: x.max, ticks: x.ticks };
  const bands = phaseBands(tl);
  const mid = (p: TimelinePoint) => p.t_s + 0.5;
  /** A plot over the run's seconds, its y axis from 0 to a round number at or above `max`. */
  const overTime = (name: string, title: string, yLabel: string, max: number, series: readonly Series[]) => {
    const y = linearTicks(max, num);
    return plot(name, title, xAxis, { label: yLabel, min: 0, max: y.max, ticks: y.ticks }, series, bands);
  };

  const latPoints = (f: (p: TimelinePoint) => number | null) => tl.filter((p) => f(p) !== null).map((p) => [mid(p), f(p)! / 1000] as [number, number]);
  const p50 = latPoints((p) => p.relay_p50_us);
  const p99 = latPoints((p) => p.relay_p99_us);
  const latMax = Math.max(0.001, ...p99.map(([, v]) => v), ...p50.map(([, v]) => v));
  const latency = overTime('relay-latency-over-time', 'Relay latency over time (one-way, all relays, per second)', 'latency (ms)', latMax, [
    { name: 'p50', color: COLORS[0]!, points: p50 },
    { name: 'p99', color: COLORS[1]!, points: p99 },
  ]);

  const tp = (f: (p: TimelinePoint) => number) => tl.map((p) => [mid(p), f(p)] as [number, number]);
  const sent = tp((p) => p.relays_sent);
  const received = tp((p) => p.relays_received);
  const ops = tp((p) => p.ops);
  const errors = tp((p) => p.errors);
  const tMax = Math.max(1, ...[sent, received, ops, errors].flat().map(([, v]) => v));
  const throughput = overTime('throughput-over-time', 'Throughput over time (per second)', 'per second', tMax, [
    { name: 'relays sent', color: COLORS[0]!, points: sent },
    { name: 'relays received', color: COLORS[2]!, points: received, dashed: true },
    { name: 'operations sent', color: COLORS[3]!, points: ops },
    { name: 'errors', color: COLORS[1]!, points: errors },
  ]);

  const open = tp((p) => p.open);
  const registered = tp((p) => p.registered);
  const cMax = Math.max(1, report.connections.peers, ...open.map(([, v]) => v));
  const connections = overTime('connections-over-time', 'Connections over time', 'connections', cMax, [
    { name: 'open', color: COLORS[0]!, points: open },
    { name: 'registered', color: COLORS[2]!, points: registered, dashed: true },
  ]);

  const loop = tp((p) => p.event_loop_p99_ms);
  const cpu = tp((p) => p.cpu * 100);
  const limit = r.generator.limits.max_event_loop_p99_ms;
  const gMax = Math.max(100, Math.min(limit * 1.2, 1000), ...loop.map(([, v]) => v), ...cpu.map(([, v]) => v));
  const generator = overTime('generator-health', 'Generator health (is the bench itself the bottleneck?)', 'ms / % of a core', gMax, [
    { name: 'event-loop delay p99 (ms)', color: COLORS[4]!, points: loop },
    { name: 'CPU (% of one core)', color: COLORS[5]!, points: cpu },
    { name: `event-loop limit (${limit} ms)`, color: '#999999', points: [[0, limit], [x.max, limit]], dashed: true },
  ]);
  return [latency, throughput, connections, generator];
}


/** Every plot of the report, in page order. */
export function reportPlots(report: BenchReport): Plot[] {
  const percentiles = percentilePlot(report);
  return [...(percentiles ? [percentiles] : []), ...timePlots(report)];
}

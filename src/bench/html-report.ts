import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { decodeHistogram } from './recorder.js';
import type { BenchReport, TimelinePoint } from './report-schema.js';
import { THRESHOLD_FAILED } from './report-schema.js';
import { closedLoopText, count, ms, OP_LABELS, rate } from './report-table.js';
import { describeServerCpu } from './server-cpu.js';

/**
 * `--html FILE`: one self-contained page (inline CSS and SVG, no scripts, no network) that a
 * person can open and read at a glance: the verdict first, then latency by percentile per
 * operation, latency and throughput over time, connections over time, and the details.
 */

const COLORS = ['#1f77b4', '#d62728', '#2ca02c', '#ff7f0e', '#9467bd', '#8c564b', '#e377c2', '#17becf'];
const PHASE_COLORS: Record<TimelinePoint['phase'], string> = { ramp: '#eef3fb', warmup: '#fdf6e3', measure: '#ffffff', drain: '#f3f3f3' };

interface Series {
  readonly name: string;
  readonly color: string;
  readonly points: readonly (readonly [number, number])[];
  readonly dashed?: boolean;
}

interface Axis {
  readonly label: string;
  readonly min: number;
  readonly max: number;
  readonly ticks: readonly { v: number; label: string }[];
  readonly log?: boolean;
}

interface Band {
  readonly from: number;
  readonly to: number;
  readonly color: string;
  readonly label: string;
}

function esc(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

const W = 760;
const H = 300;
const M = { left: 64, right: 34, top: 16, bottom: 44 };

/** One plot: its SVG body (no frame element) and what its legend lists. */
interface Plot {
  /** File name stem for `--svg`. */
  readonly name: string;
  readonly title: string;
  readonly body: string;
  readonly series: readonly Series[];
}

/** A line plot as SVG elements. */
function plot(name: string, title: string, xAxis: Axis, yAxis: Axis, series: readonly Series[], bands: readonly Band[] = []): Plot {
  const pw = W - M.left - M.right;
  const ph = H - M.top - M.bottom;
  const tx = (v: number) => (xAxis.log ? Math.log10(v) : v);
  const ty = (v: number) => (yAxis.log ? Math.log10(Math.max(v, yAxis.min)) : v);
  const x = (v: number) => M.left + ((tx(v) - tx(xAxis.min)) / (tx(xAxis.max) - tx(xAxis.min) || 1)) * pw;
  const y = (v: number) => M.top + ph - ((ty(Math.min(v, yAxis.max)) - ty(yAxis.min)) / (ty(yAxis.max) - ty(yAxis.min) || 1)) * ph;
  const parts: string[] = [];
  for (const b of bands) {
    const x0 = x(Math.max(b.from, xAxis.min));
    const x1 = x(Math.min(b.to, xAxis.max));
    if (x1 <= x0) continue;
    parts.push(`<rect x="${x0.toFixed(1)}" y="${M.top}" width="${(x1 - x0).toFixed(1)}" height="${ph}" fill="${b.color}"><title>${esc(b.label)}</title></rect>`);
    parts.push(`<text x="${(x0 + 3).toFixed(1)}" y="${M.top + 11}" class="band">${esc(b.label)}</text>`);
  }
  for (const t of yAxis.ticks) {
    const yy = y(t.v).toFixed(1);
    parts.push(`<line x1="${M.left}" x2="${M.left + pw}" y1="${yy}" y2="${yy}" class="grid"/>`);
    parts.push(`<text x="${M.left - 6}" y="${yy}" class="ytick">${esc(t.label)}</text>`);
  }
  for (const t of xAxis.ticks) {
    const xx = x(t.v).toFixed(1);
    parts.push(`<line x1="${xx}" x2="${xx}" y1="${M.top}" y2="${M.top + ph}" class="grid"/>`);
    parts.push(`<text x="${xx}" y="${M.top + ph + 16}" class="xtick">${esc(t.label)}</text>`);
  }
  parts.push(`<rect x="${M.left}" y="${M.top}" width="${pw}" height="${ph}" class="frame"/>`);
  parts.push(`<text x="${M.left + pw / 2}" y="${H - 6}" class="xlabel">${esc(xAxis.label)}</text>`);
  parts.push(`<text x="14" y="${M.top + ph / 2}" class="ylabel" transform="rotate(-90 14 ${M.top + ph / 2})">${esc(yAxis.label)}</text>`);
  for (const s of series) {
    if (s.points.length === 0) continue;
    const d = s.points.map(([px, py], i) => `${i === 0 ? 'M' : 'L'}${x(px).toFixed(1)},${y(py).toFixed(1)}`).join('');
    parts.push(`<path d="${d}" fill="none" stroke="${s.color}" stroke-width="2"${s.dashed ? ' stroke-dasharray="5 3"' : ''}><title>${esc(s.name)}</title></path>`);
    if (s.points.length === 1) {
      const [px, py] = s.points[0]!;
      parts.push(`<circle cx="${x(px).toFixed(1)}" cy="${y(py).toFixed(1)}" r="3" fill="${s.color}"/>`);
    }
  }
  return { name, title, body: parts.join(''), series: series.filter((s) => s.points.length > 0) };
}

/** The plot as a figure of the HTML page (styled by the page's CSS). */
function figureHtml(p: Plot): string {
  const legend = p.series
    .map((s) => `<span class="key"><i style="background:${s.color}${s.dashed ? ';opacity:.6' : ''}"></i>${esc(s.name)}</span>`)
    .join('');
  const svg = `<svg viewBox="0 0 ${W} ${H}" width="${W}" height="${H}" role="img" aria-label="${esc(p.title)}" xmlns="http://www.w3.org/2000/svg">${p.body}</svg>`;
  return `<figure><figcaption>${esc(p.title)}</figcaption>${svg}<div class="legend">${legend}</div></figure>`;
}

const SVG_CSS = `text{font:11px system-ui,-apple-system,Segoe UI,Roboto,sans-serif}.grid{stroke:#e5e5e5}.frame{fill:none;stroke:#999}
.xtick{text-anchor:middle;fill:#555}.ytick{text-anchor:end;dominant-baseline:middle;fill:#555}.xlabel,.ylabel{text-anchor:middle;fill:#333}
.band{fill:#999;font-size:10px}.title{font-size:13px;font-weight:600;fill:#222}.key{font-size:12px;fill:#333}`;

/** The plot as a standalone SVG file (title, legend and styles inside), for documents. */
export function standaloneSvg(p: Plot, subtitle: string): string {
  const top = 40;
  const legendY = top + H + 6;
  const keys: string[] = [];
  let x = M.left;
  for (const s of p.series) {
    keys.push(`<line x1="${x}" x2="${x + 16}" y1="${legendY}" y2="${legendY}" stroke="${s.color}" stroke-width="3"${s.dashed ? ' stroke-dasharray="5 3"' : ''}/>`);
    keys.push(`<text x="${x + 21}" y="${legendY + 4}" class="key">${esc(s.name)}</text>`);
    x += 31 + s.name.length * 6.5;
  }
  const height = legendY + 16;
  return (
    `<svg viewBox="0 0 ${W} ${height}" width="${W}" height="${height}" role="img" aria-label="${esc(p.title)}" xmlns="http://www.w3.org/2000/svg">` +
    `<style>${SVG_CSS}</style><rect width="100%" height="100%" fill="#fff"/>` +
    `<text x="8" y="16" class="title">${esc(p.title)}</text><text x="8" y="31" class="xtick" style="text-anchor:start">${esc(subtitle)}</text>` +
    `<g transform="translate(0 ${top})">${p.body}</g>${keys.join('')}</svg>\n`
  );
}

/** Round-number ticks for a linear axis from 0 to max. */
function linearTicks(max: number, format: (v: number) => string): { max: number; ticks: { v: number; label: string }[] } {
  if (!(max > 0)) return { max: 1, ticks: [0, 0.5, 1].map((v) => ({ v, label: format(v) })) };
  const raw = max / 5;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 2.5, 5, 10].map((m) => m * mag).find((s) => s >= raw) ?? 10 * mag;
  const top = Math.ceil(max / step) * step;
  const ticks: { v: number; label: string }[] = [];
  for (let v = 0; v <= top + step / 2; v += step) ticks.push({ v, label: format(v) });
  return { max: top, ticks };
}

function logTicks(min: number, max: number): { min: number; max: number; ticks: { v: number; label: string }[] } {
  const lo = 10 ** Math.floor(Math.log10(min));
  const hi = 10 ** Math.ceil(Math.log10(max));
  const ticks: { v: number; label: string }[] = [];
  for (let v = lo; v <= hi * 1.0001; v *= 10) ticks.push({ v, label: v >= 1 ? String(v) : v.toPrecision(1) });
  return { min: lo, max: hi, ticks };
}

const num = (v: number) => (Math.abs(v) >= 1000 ? count(Math.round(v)) : String(Math.round(v * 100) / 100));

function percentilePlot(report: BenchReport): Plot | null {
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

function timePlots(report: BenchReport): Plot[] {
  const r = report;
  const tl = report.timeline;
  if (tl.length === 0) return [];
  const end = Math.max(...tl.map((p) => p.t_s)) + 1;
  const x = linearTicks(end, (v) => `${v}s`);
  const xAxis: Axis = { label: 'time since start (s)', min: 0, max: x.max, ticks: x.ticks };
  const bands = phaseBands(tl);
  const mid = (p: TimelinePoint) => p.t_s + 0.5;

  const latPoints = (f: (p: TimelinePoint) => number | null) => tl.filter((p) => f(p) !== null).map((p) => [mid(p), f(p)! / 1000] as [number, number]);
  const p50 = latPoints((p) => p.relay_p50_us);
  const p99 = latPoints((p) => p.relay_p99_us);
  const latMax = Math.max(0.001, ...p99.map(([, v]) => v), ...p50.map(([, v]) => v));
  const yLat = linearTicks(latMax, (v) => num(v));
  const latency = plot(
    'relay-latency-over-time',
    'Relay latency over time (one-way, all relays, per second)',
    xAxis,
    { label: 'latency (ms)', min: 0, max: yLat.max, ticks: yLat.ticks },
    [
      { name: 'p50', color: COLORS[0]!, points: p50 },
      { name: 'p99', color: COLORS[1]!, points: p99 },
    ],
    bands,
  );

  const tp = (f: (p: TimelinePoint) => number) => tl.map((p) => [mid(p), f(p)] as [number, number]);
  const sent = tp((p) => p.relays_sent);
  const received = tp((p) => p.relays_received);
  const ops = tp((p) => p.ops);
  const errors = tp((p) => p.errors);
  const tMax = Math.max(1, ...[sent, received, ops, errors].flat().map(([, v]) => v));
  const yT = linearTicks(tMax, num);
  const throughput = plot(
    'throughput-over-time',
    'Throughput over time (per second)',
    xAxis,
    { label: 'per second', min: 0, max: yT.max, ticks: yT.ticks },
    [
      { name: 'relays sent', color: COLORS[0]!, points: sent },
      { name: 'relays received', color: COLORS[2]!, points: received, dashed: true },
      { name: 'operations sent', color: COLORS[3]!, points: ops },
      { name: 'errors', color: COLORS[1]!, points: errors },
    ],
    bands,
  );

  const open = tp((p) => p.open);
  const registered = tp((p) => p.registered);
  const cMax = Math.max(1, report.connections.peers, ...open.map(([, v]) => v));
  const yC = linearTicks(cMax, num);
  const connections = plot(
    'connections-over-time',
    'Connections over time',
    xAxis,
    { label: 'connections', min: 0, max: yC.max, ticks: yC.ticks },
    [
      { name: 'open', color: COLORS[0]!, points: open },
      { name: 'registered', color: COLORS[2]!, points: registered, dashed: true },
    ],
    bands,
  );

  const loop = tp((p) => p.event_loop_p99_ms);
  const cpu = tp((p) => p.cpu * 100);
  const limit = r.generator.limits.max_event_loop_p99_ms;
  const gMax = Math.max(100, Math.min(limit * 1.2, 1000), ...loop.map(([, v]) => v), ...cpu.map(([, v]) => v));
  const yG = linearTicks(gMax, num);
  const generator = plot(
    'generator-health',
    'Generator health (is the bench itself the bottleneck?)',
    xAxis,
    { label: 'ms / % of a core', min: 0, max: yG.max, ticks: yG.ticks },
    [
      { name: 'event-loop delay p99 (ms)', color: COLORS[4]!, points: loop },
      { name: 'CPU (% of one core)', color: COLORS[5]!, points: cpu },
      { name: `event-loop limit (${limit} ms)`, color: '#999999', points: [[0, limit], [x.max, limit]], dashed: true },
    ],
    bands,
  );
  return [latency, throughput, connections, generator];
}

/** Every plot of the report, in page order. */
export function reportPlots(report: BenchReport): Plot[] {
  const percentiles = percentilePlot(report);
  return [...(percentiles ? [percentiles] : []), ...timePlots(report)];
}

function verdictBlock(r: BenchReport): string {
  const code = r.verdict.exit_code;
  const [cls, text] =
    code === 3
      ? ['invalid', 'INVALID — the generator, not the server, was the bottleneck']
      : code === THRESHOLD_FAILED
        ? ['failed', `FAILED — ${r.thresholds.filter((t) => !t.ok).length} of ${r.thresholds.length} thresholds not met`]
        : r.thresholds.length > 0
          ? ['passed', `PASSED — all ${r.thresholds.length} thresholds met`]
          : ['passed', 'DONE — no thresholds set'];
  const reasons = r.generator.reasons.map((x) => `<li>${esc(x)}</li>`).join('');
  const thresholds = r.thresholds
    .map((t) => `<li class="${t.ok ? 'ok' : 'bad'}">${t.ok ? '✓' : '✗'} <code>${esc(t.expression)}</code> <span class="muted">${esc(t.detail)}</span></li>`)
    .join('');
  return `<div class="verdict ${cls}">${esc(text)}</div>${reasons ? `<ul class="reasons">${reasons}</ul>` : ''}${thresholds ? `<ul class="thresholds">${thresholds}</ul>` : ''}`;
}

function cards(r: BenchReport): string {
  const relay = r.operations.relay;
  const cross = r.operations.relay_cross;
  const relayP99 = Math.max(relay?.count ? relay.p99_us : 0, cross?.count ? cross.p99_us : 0);
  const relayRate = (relay?.rate_per_s ?? 0) + (cross?.rate_per_s ?? 0);
  const items: [string, string, boolean][] = [
    ['registered', `${count(r.connections.registered)} / ${count(r.connections.peers)}`, r.connections.registered < r.connections.peers],
    ['relays / s', rate(relayRate), false],
    ['relay p99', relayP99 > 0 ? `${ms(relayP99)} ms` : '–', false],
    ['lost', count(r.relays.lost), r.relays.lost > 0],
    ['errors', count(r.errors.total), r.errors.total > 0],
    ['behind schedule', count(r.schedule.late), r.schedule.late > 0],
  ];
  return `<div class="cards">${items.map(([k, v, bad]) => `<div class="card${bad ? ' bad' : ''}"><div class="v">${esc(v)}</div><div class="k">${esc(k)}</div></div>`).join('')}</div>`;
}

function operationsTable(r: BenchReport): string {
  const rows = Object.entries(r.operations)
    .filter(([, s]) => s.count > 0)
    .map(
      ([op, s]) =>
        `<tr><td>${esc(OP_LABELS[op] ?? op)}</td><td>${count(s.count)}</td><td>${rate(s.rate_per_s)}</td><td>${ms(s.p50_us)}</td><td>${ms(s.p90_us)}</td><td>${ms(s.p99_us)}</td><td>${ms(s.p999_us)}</td><td>${ms(s.max_us)}</td></tr>`,
    )
    .join('');
  return `<table><thead><tr><th>operation</th><th>count</th><th>rate/s</th><th>p50 ms</th><th>p90 ms</th><th>p99 ms</th><th>p99.9 ms</th><th>max ms</th></tr></thead><tbody>${rows}</tbody></table>`;
}

function detailsTable(r: BenchReport): string {
  const rel = r.relays;
  const crossShare = rel.sent > 0 ? rel.cross_instance_sent / rel.sent : 0;
  const rows: [string, string][] = [
    ['relays', `${count(rel.sent)} sent = ${count(rel.received)} received + ${count(rel.lost)} lost; ${count(rel.duplicated)} duplicated, ${count(rel.reordered)} reordered`],
    ['cross-instance', r.run.targets.length > 1 ? `${(crossShare * 100).toFixed(1)}% of relays (placement aimed at ${(rel.expected_cross_share * 100).toFixed(1)}%)` : 'one target'],
    r.scenario.traffic?.model === 'closed'
      ? ['closed loop', closedLoopText(r)]
      : ['schedule', `${count(r.schedule.scheduled)} due, ${count(r.schedule.late)} more than ${r.schedule.late_after_us / 1000} ms late, ${count(r.schedule.skipped_offline)} skipped (peer away)`],
    ...(r.run.spawned?.cpu ? [['servers', describeServerCpu(r.run.spawned.cpu)] as [string, string]] : []),
    ['connections', `${count(r.connections.connected)} connected, ${count(r.connections.registered)} registered of ${count(r.connections.peers)}; peak ${count(r.connections.peak_open)} open; per target: ${r.connections.per_url.map(count).join(' / ')}`],
    ['churn', `${count(r.connections.churn.left)} left, ${count(r.connections.churn.rejoined)} rejoined, ${count(r.connections.churn.failed)} failed`],
    ['generator', `${r.generator.threads} thread(s); CPU ${(r.generator.cpu.avg * 100).toFixed(0)}% avg, ${(r.generator.cpu.max * 100).toFixed(0)}% max of one core; event-loop delay p99 ${r.generator.event_loop.p99_ms} ms, max ${r.generator.event_loop.max_ms} ms`],
    ['phases', `ramp ${r.phases.ramp_s} s, warm-up ${r.phases.warmup_s} s, measured ${r.phases.measure_s} s, drain ${r.phases.drain_s} s, total ${r.phases.total_s} s`],
  ];
  const errors = Object.entries(r.errors.by_class);
  const errorRows = errors.length > 0 ? errors.map(([c, n]) => `<tr><td><code>${esc(c)}</code></td><td>${count(n)}</td></tr>`).join('') : '<tr><td colspan="2">none</td></tr>';
  return (
    `<table class="facts">${rows.map(([k, v]) => `<tr><th>${esc(k)}</th><td>${esc(v)}</td></tr>`).join('')}</table>` +
    `<h2>Errors by class</h2><table><thead><tr><th>class</th><th>count</th></tr></thead><tbody>${errorRows}</tbody></table>`
  );
}

const CSS = `
body{font:14px/1.45 system-ui,-apple-system,Segoe UI,Roboto,sans-serif;color:#222;max-width:1000px;margin:24px auto;padding:0 16px}
h1{font-size:22px;margin:0 0 4px}h2{font-size:16px;margin:28px 0 8px;border-bottom:1px solid #ddd;padding-bottom:4px}
.muted{color:#777}.verdict{font-size:18px;font-weight:600;padding:10px 14px;border-radius:6px;margin:14px 0 8px}
.verdict.passed{background:#e6f4ea;color:#137333}.verdict.failed{background:#fce8e6;color:#a50e0e}.verdict.invalid{background:#fef7e0;color:#8a5a00}
ul.thresholds,ul.reasons{margin:4px 0;padding-left:20px}li.ok{color:#137333}li.bad{color:#a50e0e}
.cards{display:flex;flex-wrap:wrap;gap:10px;margin:12px 0}.card{border:1px solid #ddd;border-radius:6px;padding:8px 12px;min-width:120px}
.card .v{font-size:20px;font-weight:600}.card .k{color:#666;font-size:12px}.card.bad{border-color:#d93025}.card.bad .v{color:#a50e0e}
table{border-collapse:collapse;margin:6px 0}td,th{padding:3px 10px;border-bottom:1px solid #eee;text-align:right}td:first-child,th:first-child{text-align:left}
table.facts td{text-align:left}figure{margin:16px 0}figcaption{font-weight:600;margin-bottom:4px}
svg{max-width:100%;height:auto;font-size:11px}.grid{stroke:#e5e5e5}.frame{fill:none;stroke:#999}
.xtick{text-anchor:middle;fill:#555}.ytick{text-anchor:end;dominant-baseline:middle;fill:#555}.xlabel,.ylabel{text-anchor:middle;fill:#333}
.band{fill:#999;font-size:10px}.legend{display:flex;flex-wrap:wrap;gap:14px;font-size:12px;margin-left:64px}
.key i{display:inline-block;width:14px;height:3px;margin-right:5px;vertical-align:middle}
pre{background:#f6f8fa;padding:10px;overflow:auto;font-size:12px}`;

export function renderHtml(r: BenchReport): string {
  const title = `sleap-signal bench: ${r.run.scenario}`;
  const spawned = r.run.spawned ? ` (spawned ${r.run.spawned.instances}, ${r.run.spawned.backend})` : '';
  const percentiles = percentilePlot(r);
  const over = timePlots(r);
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>${esc(title)}</title><style>${CSS}</style></head>
<body>
<h1>${esc(title)}</h1>
<div class="muted">${esc(r.scenario.description ?? '')}</div>
<div class="muted">${count(r.connections.peers)} peers → ${esc(r.run.targets.join(', '))}${esc(spawned)} · ${esc(r.run.started_at)} · ${r.run.threads} generator thread(s) on ${esc(r.run.host)} (${r.run.cpus} CPUs) · sleap-signal ${esc(r.tool.version)}</div>
${verdictBlock(r)}
${cards(r)}
<h2>Operations</h2>
<p class="muted">Latencies in ms, from the intended send time (coordinated omission corrected), measured window only (connect and register: all).</p>
${operationsTable(r)}
<h2>Latency distribution</h2>
${percentiles ? figureHtml(percentiles) : '<p class="muted">No latencies were recorded.</p>'}
<h2>Over time</h2>
<p class="muted">Background: ramp (blue), warm-up (yellow), measured (white), drain (grey).</p>
${over.length > 0 ? over.map(figureHtml).join('') : '<p class="muted">No timeline was recorded.</p>'}
<h2>Details</h2>
${detailsTable(r)}
<h2>Scenario as run</h2>
<details><summary>show</summary><pre>${esc(JSON.stringify(r.scenario, null, 2))}</pre></details>
</body></html>
`;
}

export async function writeHtmlReport(path: string, report: BenchReport): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  await writeFile(path, renderHtml(report));
}

/** `--svg DIR`: each plot of the HTML report as its own SVG file; returns the files written. */
export async function writeSvgPlots(dir: string, report: BenchReport): Promise<string[]> {
  await mkdir(dir, { recursive: true });
  const subtitle = `${report.run.scenario} · ${report.connections.peers} peers → ${report.run.targets.length} target(s) · ${report.run.started_at}`;
  const written: string[] = [];
  for (const p of reportPlots(report)) {
    const file = join(dir, `${p.name}.svg`);
    await writeFile(file, standaloneSvg(p, subtitle));
    written.push(file);
  }
  return written;
}

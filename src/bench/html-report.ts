import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { BenchReport } from './report-schema.js';
import { THRESHOLD_FAILED } from './report-schema.js';
import { percentilePlot, reportPlots, timePlots } from './report-plots.js';
import { closedLoopText, count, ms, OP_LABELS, rate } from './report-table.js';
import { describeServerCpu } from './server-cpu.js';
import { stormRows } from './storm-text.js';
import { esc, figureHtml, standaloneSvg } from './svg-plot.js';

/**
 * `--html FILE`: one self-contained page (inline CSS and SVG, no scripts, no network) that a
 * person can open and read at a glance: the verdict first, then latency by percentile per
 * operation, latency and throughput over time, connections over time, and the details.
 */

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

/** The storms (faults) of the run, when it had any. */
function stormsBlock(r: BenchReport): string {
  const storms = r.storms ?? [];
  if (storms.length === 0) return '';
  const rows = storms.flatMap(stormRows).map(([k, v, bad]) => `<tr><th>${esc(k)}</th><td${bad ? ' class="bad"' : ''}>${esc(v)}</td></tr>`);
  return `<h2>Storms</h2><p class="muted">Times from the fault; each storm lasts until the next fault or the end of the traffic.</p><table class="facts">${rows.join('')}</table>\n`;
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
table.facts td{text-align:left}table.facts td.bad{color:#a50e0e}figure{margin:16px 0}figcaption{font-weight:600;margin-bottom:4px}
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
${stormsBlock(r)}<h2>Details</h2>
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

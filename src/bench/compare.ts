import { Command, InvalidArgumentError, Option } from 'commander';
import { parseChoice } from '../options/option-parsers.js';
import Table from 'cli-table3';
import chalk from 'chalk';
import { readJsonReport } from './report-json.js';
import type { BenchReport } from './report-schema.js';
import { THRESHOLD_FAILED } from './report-schema.js';
import { count, ms, OP_LABELS, rate } from './report-table.js';

/** `bench compare A.json B.json`: two runs side by side, with B/A ratios. */

export interface ComparisonRow {
  readonly metric: string;
  readonly a: number | null;
  readonly b: number | null;
  /** b / a; null when either is missing or a is 0. */
  readonly ratio: number | null;
  /** Whether a larger value is worse (latencies, errors) or better (rates). */
  readonly higherIsWorse: boolean;
  readonly kind: 'latency' | 'rate' | 'count' | 'share';
}

const LATENCY_STATS: [keyof BenchReport['operations'][string], string][] = [
  ['p50_us', 'p50'],
  ['p90_us', 'p90'],
  ['p99_us', 'p99'],
  ['p999_us', 'p99.9'],
  ['max_us', 'max'],
];

export function compareReports(a: BenchReport, b: BenchReport): ComparisonRow[] {
  const rows: ComparisonRow[] = [];
  const row = (metric: string, x: number | null, y: number | null, kind: ComparisonRow['kind'], higherIsWorse = true) =>
    rows.push({ metric, a: x, b: y, ratio: x !== null && y !== null && x !== 0 ? y / x : null, higherIsWorse, kind });
  const ops = [...new Set([...Object.keys(a.operations), ...Object.keys(b.operations)])];
  for (const op of ops) {
    const x = a.operations[op];
    const y = b.operations[op];
    if ((x?.count ?? 0) === 0 && (y?.count ?? 0) === 0) continue;
    row(`${op} rate/s`, x?.rate_per_s ?? null, y?.rate_per_s ?? null, 'rate', false);
    for (const [field, label] of LATENCY_STATS) {
      row(`${op} ${label}`, x && x.count > 0 ? (x[field] as number) : null, y && y.count > 0 ? (y[field] as number) : null, 'latency');
    }
  }
  row('relays sent', a.relays.sent, b.relays.sent, 'count', false);
  row('relays lost', a.relays.lost, b.relays.lost, 'count');
  row('relays duplicated', a.relays.duplicated, b.relays.duplicated, 'count');
  row('relays reordered', a.relays.reordered, b.relays.reordered, 'count');
  row('behind schedule', a.schedule.late, b.schedule.late, 'count');
  row('errors', a.errors.total, b.errors.total, 'count');
  row('registered', a.connections.registered, b.connections.registered, 'count', false);
  row('generator CPU', a.generator.cpu.avg, b.generator.cpu.avg, 'share');
  row('generator loop p99 (ms)', a.generator.event_loop.p99_ms, b.generator.event_loop.p99_ms, 'count');
  return rows;
}

function cell(value: number | null, kind: ComparisonRow['kind']): string {
  if (value === null) return chalk.dim('-');
  if (kind === 'latency') return `${ms(value)} ms`;
  if (kind === 'rate') return rate(value);
  if (kind === 'share') return `${(value * 100).toFixed(0)}%`;
  return Number.isInteger(value) ? count(value) : value.toFixed(2);
}

function ratioCell(r: ComparisonRow): string {
  if (r.ratio === null) return r.a === 0 && r.b === 0 ? chalk.dim('=') : chalk.dim('-');
  const text = `${r.ratio.toFixed(2)}×`;
  const worse = r.higherIsWorse ? r.ratio > 1.1 : r.ratio < 0.9;
  const better = r.higherIsWorse ? r.ratio < 0.9 : r.ratio > 1.1;
  return worse ? chalk.red(text) : better ? chalk.green(text) : text;
}

export function renderComparison(a: BenchReport, b: BenchReport, nameA: string, nameB: string): string {
  const rows = compareReports(a, b);
  const table = new Table({ head: ['metric', `A: ${nameA}`, `B: ${nameB}`, 'B/A'], colAligns: ['left', 'right', 'right', 'right'], style: { head: [], border: [], compact: true } });
  for (const r of rows) {
    const [op] = r.metric.split(' ');
    const label = OP_LABELS[op!] ? r.metric : r.metric;
    table.push([label, cell(r.a, r.kind), cell(r.b, r.kind), ratioCell(r)]);
  }
  const describe = (r: BenchReport) =>
    `${r.run.scenario}, ${r.connections.peers} peers, ${r.run.targets.length} target(s), ${r.run.started_at}${r.generator.valid ? '' : chalk.yellow(' (INVALID run)')}`;
  const warning =
    a.run.scenario !== b.run.scenario || a.connections.peers !== b.connections.peers
      ? `${chalk.yellow(`warning: the runs differ (${a.run.scenario}, ${a.connections.peers} peers vs ${b.run.scenario}, ${b.connections.peers} peers): ratios compare unlike loads`)}\n`
      : '';
  return `A: ${describe(a)}\nB: ${describe(b)}\n${warning}${table.toString()}\n${comparisonSummary(rows)}\n`;
}

/** The last line: how many measures B did worse or better on (by more than 10%), for a reader who skims. */
export function comparisonSummary(rows: readonly ComparisonRow[]): string {
  let worse = 0;
  let better = 0;
  for (const r of rows) {
    if (r.ratio === null) continue;
    if (r.higherIsWorse ? r.ratio > 1.1 : r.ratio < 0.9) worse++;
    else if (r.higherIsWorse ? r.ratio < 0.9 : r.ratio > 1.1) better++;
  }
  const same = rows.filter((r) => r.ratio !== null).length - worse - better;
  return `B vs A: ${worse} worse, ${better} better, ${same} within 10%`;
}

export function compareCommand(): Command {
  return new Command('compare')
    .description('compare two JSON reports side by side (B/A ratios; red: B worse by more than 10%)')
    .argument('<a>', 'baseline report (bench --json)')
    .argument('<b>', 'report to compare with it')
    // Not --json: that is `bench --json FILE`, which commander would match first.
    .addOption(new Option('--format <format>', 'table or json').argParser(parseChoice(['table', 'json'] as const)).default('table'))
    .addOption(
      new Option('--fail-above <ratio>', 'exit 99 when a p99 latency of B is more than RATIO times that of A').argParser((v: string) => {
        const n = Number(v);
        if (!Number.isFinite(n) || n <= 0) throw new InvalidArgumentError(`expected a positive ratio, got "${v}"`);
        return n;
      }),
    )
    .action(async (pathA: string, pathB: string, flags: { format: 'table' | 'json'; failAbove?: number }) => {
      const [a, b] = await Promise.all([readJsonReport(pathA), readJsonReport(pathB)]);
      const rows = compareReports(a, b);
      if (flags.format === 'json') process.stdout.write(`${JSON.stringify({ a: pathA, b: pathB, rows }, null, 2)}\n`);
      else process.stdout.write(renderComparison(a, b, pathA, pathB));
      if (flags.failAbove !== undefined) {
        const regressions = rows.filter((r) => r.metric.endsWith(' p99') && r.ratio !== null && r.ratio > flags.failAbove!);
        if (regressions.length > 0) {
          process.stderr.write(`regression: ${regressions.map((r) => `${r.metric} ${r.ratio!.toFixed(2)}×`).join(', ')}\n`);
          process.exitCode = THRESHOLD_FAILED;
        }
      }
    });
}

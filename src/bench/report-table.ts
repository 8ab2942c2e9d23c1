import Table from 'cli-table3';
import chalk from 'chalk';
import type { BenchReport, OperationStats } from './report-schema.js';
import { THRESHOLD_FAILED } from './report-schema.js';
import { describeServerCpu } from './server-cpu.js';
import { stormRows } from './storm-text.js';

/** The final report as terminal tables: operations, correctness, errors, generator health, verdict. */

/** µs → "0.42", "12.3", "215" (milliseconds). */
export function ms(us: number): string {
  const v = us / 1000;
  if (v === 0) return '0';
  if (v < 10) return v.toFixed(2);
  if (v < 100) return v.toFixed(1);
  return v.toFixed(0);
}

export function count(n: number): string {
  return n.toLocaleString('en-US');
}

export function rate(n: number): string {
  return n >= 100 ? count(Math.round(n)) : n.toFixed(1);
}

export const OP_LABELS: Record<string, string> = {
  connect: 'connect (TCP + upgrade)',
  register: 'register → registered',
  discover: 'discover round trip',
  update_metadata: 'update_metadata round trip',
  offer_answer: 'offer → answer round trip',
  relay: 'relay one-way',
  relay_cross: 'relay one-way, cross-instance',
};

const TABLE_STYLE = { head: [] as string[], border: [] as string[], compact: true };

function opRow(label: string, o: OperationStats): string[] {
  return [label, count(o.count), rate(o.rate_per_s), ms(o.p50_us), ms(o.p90_us), ms(o.p99_us), ms(o.p999_us), ms(o.max_us)];
}

/** What a closed-model run did: "16 relay(s) in flight per peer, ...: 51,445 relays/s delivered while measuring". */
export function closedLoopText(r: BenchReport): string {
  const delivered = Math.round((r.operations.relay?.rate_per_s ?? 0) + (r.operations.relay_cross?.rate_per_s ?? 0));
  return `${r.scenario.traffic?.in_flight ?? 1} relay(s) in flight per peer, the next sent when one arrives: ${count(delivered)} relays/s delivered while measuring`;
}

export function renderReport(r: BenchReport): string {
  const out: string[] = [];
  const title = `${r.run.scenario}: ${r.connections.peers} peers → ${r.run.targets.join(', ')}` + (r.run.spawned ? ` (spawned ${r.run.spawned.instances}, ${r.run.spawned.backend})` : '');
  out.push(chalk.bold(title));
  out.push(
    chalk.dim(
      `ramp ${r.phases.ramp_s.toFixed(1)} s, warm-up ${r.phases.warmup_s} s, measured ${r.phases.measure_s} s, drain ${r.phases.drain_s.toFixed(1)} s; ` +
        `${r.run.threads} generator thread(s); latencies in ms, measured from the intended send time`,
    ),
  );

  const ops = new Table({
    head: ['operation', 'count', 'rate/s', 'p50', 'p90', 'p99', 'p99.9', 'max'],
    colAligns: ['left', 'right', 'right', 'right', 'right', 'right', 'right', 'right'],
    style: TABLE_STYLE,
  });
  for (const [op, stats] of Object.entries(r.operations)) {
    if (stats.count > 0) ops.push(opRow(OP_LABELS[op] ?? op, stats));
  }
  if (r.schedule.lag.count > 0) ops.push(opRow(chalk.dim('schedule lag (generator)'), r.schedule.lag).map((c, i) => (i === 0 ? c : chalk.dim(c))));
  out.push(ops.toString());

  const rel = r.relays;
  const crossShare = rel.sent > 0 ? rel.cross_instance_sent / rel.sent : 0;
  const facts = new Table({ style: TABLE_STYLE, colAligns: ['left', 'left'] });
  const bad = (n: number, text: string) => (n > 0 ? chalk.red(text) : text);
  facts.push(
    [
      'relays',
      `${count(rel.sent)} sent = ${count(rel.received)} received + ${bad(rel.lost, `${count(rel.lost)} lost`)}; ` +
        `${bad(rel.duplicated, `${count(rel.duplicated)} duplicated`)}, ${bad(rel.reordered, `${count(rel.reordered)} reordered`)}`,
    ],
    ['cross-instance', r.run.targets.length > 1 ? `${(crossShare * 100).toFixed(1)}% of relays (placement aimed at ${(rel.expected_cross_share * 100).toFixed(1)}%)` : 'one target'],
    r.scenario.traffic?.model === 'closed'
      ? ['closed loop', closedLoopText(r)]
      : [
          'schedule',
          `${count(r.schedule.scheduled)} operations due, ${bad(r.schedule.late, `${count(r.schedule.late)} behind schedule`)} (> ${r.schedule.late_after_us / 1000} ms), ${count(r.schedule.skipped_offline)} skipped (peer away)`,
        ],
    [
      'connections',
      `${count(r.connections.registered)}/${count(r.connections.peers)} registered (${count(r.connections.connected)} connected), peak ${count(r.connections.peak_open)} open` +
        (r.connections.churn.left > 0 ? `; churn: ${count(r.connections.churn.left)} left, ${count(r.connections.churn.rejoined)} rejoined, ${bad(r.connections.churn.failed, `${count(r.connections.churn.failed)} failed`)}` : ''),
    ],
    ...(r.run.spawned?.cpu ? [['servers', describeServerCpu(r.run.spawned.cpu)]] : []),
    [
      'generator',
      `CPU ${(r.generator.cpu.avg * 100).toFixed(0)}% avg / ${(r.generator.cpu.max * 100).toFixed(0)}% max of one core, event-loop delay p99 ${r.generator.event_loop.p99_ms} ms (max ${r.generator.event_loop.max_ms} ms)`,
    ],
  );
  if (r.presence_events > 0) facts.push(['presence', `${count(r.presence_events)} events received`]);
  out.push(facts.toString());

  const storms = r.storms ?? [];
  if (storms.length > 0) {
    const table = new Table({ style: TABLE_STYLE, colAligns: ['left', 'left'] });
    for (const [label, text, isBad] of storms.flatMap(stormRows)) table.push([label, isBad ? chalk.red(text) : text]);
    out.push(table.toString());
  }

  const errorEntries = Object.entries(r.errors.by_class);
  if (errorEntries.length > 0) {
    const errors = new Table({ head: ['error class', 'count'], colAligns: ['left', 'right'], style: TABLE_STYLE });
    for (const [cls, n] of errorEntries) errors.push([chalk.red(cls), count(n)]);
    out.push(errors.toString());
  } else {
    out.push(chalk.green('errors: none'));
  }

  for (const t of r.thresholds) out.push(`${t.ok ? chalk.green('✓') : chalk.red('✗')} ${t.expression}  ${chalk.dim(t.detail)}`);
  if (!r.generator.valid) {
    out.push(chalk.yellow.bold('INVALID RUN: the generator, not the server, was the bottleneck'));
    for (const reason of r.generator.reasons) out.push(chalk.yellow(`  - ${reason}`));
  }
  const verdict =
    r.verdict.exit_code === 0
      ? chalk.green.bold(r.thresholds.length > 0 ? 'PASSED: every threshold holds' : 'DONE')
      : r.verdict.exit_code === THRESHOLD_FAILED
        ? chalk.red.bold(`FAILED: ${r.thresholds.filter((t) => !t.ok).length} threshold(s) not met`)
        : chalk.yellow.bold('INVALID (exit 3)');
  out.push(verdict);
  return `${out.join('\n')}\n`;
}

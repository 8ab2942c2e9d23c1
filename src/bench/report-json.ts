import { readFile, writeFile, mkdir } from 'node:fs/promises';
import { THRESHOLD_FAILED } from './report-schema.js';
import { availableParallelism } from 'node:os';
import { dirname } from 'node:path';
import { Value } from '@sinclair/typebox/value';
import { VERSION } from '../version.js';
import type { LoopStats } from './monitor.js';
import type { Placement } from './placement.js';
import type { ServerCpu } from './server-cpu.js';
import { encodeHistogram, histogramStats, OPS, type Op, type Recorder } from './recorder.js';
import { REPORT_SCHEMA_ID, REPORT_VERSION, ReportSchema, type BenchReport, type OperationStats } from './report-schema.js';
import type { LoadedScenario } from './scenario/scenario.js';
import type { StormReport } from './storm-report.js';
import { evaluateThresholds } from './thresholds.js';
import type { Histogram } from 'hdr-histogram-js';

/** Everything a run measured, merged over its threads: the input of the report. */
export interface RunFacts {
  readonly runId: string;
  readonly loaded: LoadedScenario;
  readonly urls: string[];
  readonly spawned: { instances: number; backend: 'memory' | 'redis'; ready_ms: number[]; cpu?: ServerCpu } | null;
  readonly threads: number;
  readonly host: string;
  readonly startedAt: Date;
  readonly finishedAt: Date;
  readonly phases: BenchReport['phases'];
  readonly recorder: Recorder;
  readonly timeline: (MergedTimelinePoint & { relayP50Us: number | null; relayP99Us: number | null })[];
  readonly loop: LoopStats;
  readonly cpu: { avg: number; max: number };
  readonly placement: Placement;
  readonly peakOpen: number;
  readonly openAtEnd: number;
  readonly rampConnected: number;
  readonly rampRegistered: number;
  /** One per fault (empty without faults). */
  readonly storms: StormReport[];
}

export interface MergedTimelinePoint {
  i: number;
  phase: 'ramp' | 'warmup' | 'measure' | 'drain';
  open: number;
  registered: number;
  relaysSent: number;
  relaysReceived: number;
  ops: number;
  errors: number;
  loopP99Ms: number;
  cpu: number;
}

const round = (n: number, digits = 3) => Math.round(n * 10 ** digits) / 10 ** digits;

export function operationStats(h: Histogram, seconds: number): OperationStats {
  const st = histogramStats(h);
  return { ...st, rate_per_s: seconds > 0 ? round(st.count / seconds) : 0, histogram: encodeHistogram(h) };
}

/** Builds the report, judges the generator's health, and evaluates the thresholds. */
export function buildReport(f: RunFacts): BenchReport {
  const s = f.loaded.scenario;
  const rec = f.recorder;
  const c = rec.counters;
  const operations: Record<string, OperationStats> = {};
  for (const op of OPS) {
    const window = op === 'connect' || op === 'register' ? f.phases.ramp_s : f.phases.measure_s;
    operations[op] = operationStats(rec.histograms[op as Op], window);
  }
  const reasons: string[] = [];
  const v = s.validity;
  // In the closed model a busy generator only delays its own next sends (the CPU rule below says
  // whether it, rather than the server, set the pace); its loop delay does not skew a schedule.
  if (s.traffic.model === 'open' && f.loop.p99Ms > v.maxEventLoopP99Ms) {
    reasons.push(`generator event-loop delay p99 was ${f.loop.p99Ms} ms (limit ${v.maxEventLoopP99Ms} ms): it stalled, so its timings are its own`);
  }
  const cpuShare = f.cpu.avg / f.threads;
  if (cpuShare > v.maxCpu) {
    reasons.push(`generator CPU was ${(cpuShare * 100).toFixed(0)}% of its ${f.threads} thread(s) (limit ${(v.maxCpu * 100).toFixed(0)}%): add --threads, or lower the load`);
  }
  const lateShare = c.scheduled > 0 ? c.late / c.scheduled : 0;
  if (lateShare > v.maxLateShare) {
    reasons.push(
      `${(lateShare * 100).toFixed(2)}% of the sends left more than ${s.lateAfterMs} ms behind schedule (limit ${(v.maxLateShare * 100).toFixed(2)}%): the generator could not keep up`,
    );
  }
  const valid = reasons.length === 0;
  const report: BenchReport = {
    schema: REPORT_SCHEMA_ID,
    version: REPORT_VERSION,
    tool: { name: 'sleap-signal', version: VERSION, node: process.version },
    run: {
      id: f.runId,
      scenario: s.name,
      source: f.loaded.source,
      started_at: f.startedAt.toISOString(),
      finished_at: f.finishedAt.toISOString(),
      targets: f.urls,
      spawned: f.spawned,
      threads: f.threads,
      host: f.host,
      cpus: availableParallelism(),
    },
    scenario: f.loaded.effective,
    phases: {
      ramp_s: round(f.phases.ramp_s),
      warmup_s: round(f.phases.warmup_s),
      measure_s: round(f.phases.measure_s),
      drain_s: round(f.phases.drain_s),
      total_s: round(f.phases.total_s),
    },
    operations,
    relays: {
      sent: c.relaysSent,
      received: c.relaysReceived,
      lost: Math.max(0, c.relaysSent - c.relaysReceived),
      duplicated: c.duplicated,
      reordered: c.reordered,
      cross_instance_sent: c.relaysCrossSent,
      expected_cross_share: round(f.placement.expectedCrossShare, 4),
    },
    schedule: {
      scheduled: c.scheduled,
      late: c.late,
      late_after_us: s.lateAfterMs * 1000,
      skipped_offline: c.skippedOffline,
      lag: operationStats(rec.lag, f.phases.measure_s),
    },
    connections: {
      peers: s.peers,
      connected: f.rampConnected,
      registered: f.rampRegistered,
      attempts: c.connectAttempts,
      peak_open: f.peakOpen,
      open_at_end: f.openAtEnd,
      churn: { left: c.churnLeft, rejoined: c.churnRejoined, failed: c.churnFailed },
      per_url: f.placement.perUrl,
    },
    presence_events: c.presenceEvents,
    errors: { total: rec.errorTotal, by_class: Object.fromEntries([...rec.errors.entries()].sort((a, b) => b[1] - a[1])) },
    generator: {
      valid,
      reasons,
      threads: f.threads,
      cpu: { avg: round(f.cpu.avg), max: round(f.cpu.max) },
      event_loop: { p50_ms: f.loop.p50Ms, p99_ms: f.loop.p99Ms, max_ms: f.loop.maxMs },
      limits: { max_event_loop_p99_ms: v.maxEventLoopP99Ms, max_cpu: v.maxCpu, max_late_share: v.maxLateShare },
    },
    storms: f.storms,
    thresholds: [],
    timeline: f.timeline.map((p) => ({
      t_s: p.i,
      phase: p.phase,
      open: p.open,
      registered: p.registered,
      relays_sent: p.relaysSent,
      relays_received: p.relaysReceived,
      ops: p.ops,
      errors: p.errors,
      relay_p50_us: p.relayP50Us,
      relay_p99_us: p.relayP99Us,
      event_loop_p99_ms: p.loopP99Ms,
      cpu: round(p.cpu),
    })),
    verdict: { valid, thresholds_passed: true, exit_code: 0 },
  };
  return judge(report, s.thresholds);
}

/** Evaluates thresholds into the report and sets its verdict: 3 invalid, 99 a threshold failed (as k6; 2 is bad usage), 0. */
export function judge(report: BenchReport, thresholds: readonly string[]): BenchReport {
  const results = evaluateThresholds(thresholds, report);
  const passed = results.every((r) => r.ok);
  const valid = report.generator.valid;
  return { ...report, thresholds: results, verdict: { valid, thresholds_passed: passed, exit_code: !valid ? 3 : passed ? 0 : THRESHOLD_FAILED } };
}

export async function writeJsonReport(path: string, report: BenchReport): Promise<void> {
  const text = `${JSON.stringify(report, null, 2)}\n`;
  if (path === '-') {
    process.stdout.write(text);
    return;
  }
  await mkdir(dirname(path), { recursive: true });
  await writeFile(path, text);
}

/** Problems of a value against the report schema (empty: valid). */
export function reportProblems(value: unknown): string[] {
  return [...Value.Errors(ReportSchema, value)].slice(0, 10).map((e) => `${e.path || '/'}: ${e.message}`);
}

/** Reads a JSON report and checks it against the schema. */
export async function readJsonReport(path: string): Promise<BenchReport> {
  let value: unknown;
  try {
    value = JSON.parse(await readFile(path, 'utf8'));
  } catch (err) {
    throw new Error(`${path}: ${err instanceof Error ? err.message : String(err)}`);
  }
  const v = value as { schema?: unknown; version?: unknown };
  if (v?.schema !== REPORT_SCHEMA_ID) throw new Error(`${path}: not a sleap-signal bench report`);
  if (v.version !== REPORT_VERSION) throw new Error(`${path}: report version ${String(v.version)}; this version reads ${REPORT_VERSION}`);
  const problems = reportProblems(value);
  if (problems.length > 0) throw new Error(`${path}: not a valid report:\n  ${problems.join('\n  ')}`);
  return value as BenchReport;
}

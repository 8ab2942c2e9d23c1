import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { nowUs, sleepUntil } from './clock.js';
import { CpuMonitor } from './monitor.js';
import type { ServerCpuProbe } from './server-cpu.js';
import { place } from './placement.js';
import { ProgressTicker, type LiveProgress, type Phase } from './progress-ticker.js';
import type { FaultInjector } from './faults.js';
import { buildReport } from './report-json.js';
import type { BenchReport } from './report-schema.js';
import type { LoadedScenario } from './scenario/scenario.js';
import { mergeShards } from './shard-merge.js';
import { LocalShard, WorkerShard, workersAvailable, type ShardHandle } from './shard-host.js';
import type { TrafficWindow } from './shard/context.js';
import type { ShardResult } from './shard/shard.js';
import { mergeStormTallies, stormReports } from './storm-report.js';
import { splitRooms } from './thread-split.js';

/**
 * One bench run, start to end: place the peers, split them over generator threads, ramp the
 * connections, run warm-up and measured traffic, drain, close, merge what every thread
 * measured, and build the report.
 */

export interface RunOptions {
  readonly loaded: LoadedScenario;
  readonly urls: readonly string[];
  /** Generator threads (1: everything in this thread). */
  readonly threads: number;
  readonly sourceAddresses?: readonly string[] | 'auto';
  readonly spawned?: { instances: number; backend: 'memory' | 'redis'; ready_ms: number[] } | null;
  /** Kills and drains spawned instances on the scenario's schedule. */
  readonly faults?: FaultInjector;
  /** Reads the spawned servers' CPU over the measured window (reported with them). */
  readonly serverCpu?: ServerCpuProbe;
  readonly onProgress?: (progress: LiveProgress) => void;
  /** Run a single shard in this thread even when worker threads are available. */
  readonly inThread?: boolean;
  /** Aborts the run (e.g. on Ctrl-C): connections are cut and the promise rejects. */
  readonly signal?: AbortSignal;
}

export async function runBench(options: RunOptions): Promise<BenchReport> {
  const { loaded, urls } = options;
  const s = loaded.scenario;
  const runId = randomBytes(4).toString('hex');
  const startedAt = new Date();
  const placement = place(s, urls.length, runId, options.sourceAddresses ?? 'auto', urls);
  if (options.threads > 1 && !workersAvailable()) throw new Error('several generator threads need the built package (dist/); run --threads 1 from sources');
  const groups = splitRooms(placement, Math.max(1, Math.min(options.threads, s.rooms)));
  const threads = groups.length;
  const runStartUs = nowUs();
  const handles: ShardHandle[] = groups.map((peers, shard) => {
    const init = { shard, shards: threads, scenario: s, urls: [...urls], peers, runStartUs };
    // Generator threads run as worker threads (their heap tuned for many small messages) when the
    // package is built; from sources (tests) a single shard runs in this thread.
    return workersAvailable() && !options.inThread ? new WorkerShard(init) : new LocalShard(init);
  });

  const cpu = new CpuMonitor();
  const ticker = new ProgressTicker(handles, s, runStartUs, cpu, options.onProgress);
  ticker.start();

  const aborted = new Promise<never>((_, reject) => {
    const onAbort = () => reject(new Error('bench interrupted'));
    if (options.signal?.aborted) onAbort();
    options.signal?.addEventListener('abort', onAbort, { once: true });
  });
  aborted.catch(() => {});
  const guarded = <T>(p: Promise<T>) => Promise.race([p, aborted]);

  let window: TrafficWindow;
  let cpuWindow = 0;
  let rampEndUs: number;
  let trafficEndUs: number;
  let results: ShardResult[];
  try {
    const rampStartUs = nowUs() + 20_000;
    const registered = (await guarded(Promise.all(handles.map((h) => h.ramp(rampStartUs))))).reduce((a, b) => a + b, 0);
    rampEndUs = nowUs();
    const startUs = nowUs() + 50_000;
    // With no peer registered there is nothing to send: the traffic phases are skipped.
    const warmupUs = registered > 0 ? s.warmupMs * 1000 : 0;
    const durationUs = registered > 0 ? s.durationMs * 1000 : 0;
    window = { startUs, measureStartUs: startUs + warmupUs, endUs: startUs + warmupUs + durationUs };
    ticker.phase = 'warmup';
    options.faults?.arm(window);
    const phaseTimers = [
      setTimeout(() => {
        ticker.phase = 'measure';
        cpu.resetWindow();
        options.serverCpu?.begin();
      }, (window.measureStartUs - nowUs()) / 1000),
      setTimeout(() => {
        ticker.phase = 'drain';
        cpuWindow = cpu.windowShare();
        options.serverCpu?.end();
      }, (window.endUs - nowUs()) / 1000),
    ];
    await guarded(Promise.all(handles.map((h) => h.traffic(window))));
    phaseTimers.forEach(clearTimeout);
    if (nowUs() < window.endUs) await sleepUntil(window.endUs);
    if ((ticker.phase as Phase) !== 'drain') {
      cpuWindow = cpu.windowShare();
      options.serverCpu?.end();
    }
    trafficEndUs = nowUs();
    ticker.phase = 'closing';
    results = await guarded(Promise.all(handles.map((h) => h.finish())));
  } catch (err) {
    await Promise.all(handles.map((h) => h.abort().catch(() => {})));
    throw err;
  } finally {
    options.faults?.disarm();
    ticker.stop();
  }
  ticker.tick();
  const finishedUs = nowUs();

  const merged = mergeShards(results, { runStartUs, rampEndUs, window }, ticker.cpuBySecond);
  const measuredCpu = merged.timeline.filter((p) => p.phase === 'measure').map((p) => p.cpu);
  const serverCpu = options.spawned && options.serverCpu ? await options.serverCpu.result() : null;

  return buildReport({
    runId,
    loaded,
    urls: [...urls],
    spawned: options.spawned ? { ...options.spawned, ...(serverCpu ? { cpu: serverCpu } : {}) } : null,
    threads,
    host: hostname(),
    startedAt,
    finishedAt: new Date(),
    phases: {
      ramp_s: (rampEndUs - runStartUs) / 1e6,
      warmup_s: (window.measureStartUs - window.startUs) / 1e6,
      measure_s: (window.endUs - window.measureStartUs) / 1e6,
      drain_s: (trafficEndUs - window.endUs) / 1e6,
      total_s: (finishedUs - runStartUs) / 1e6,
    },
    ...merged,
    storms: stormReports(mergeStormTallies(results.map((r) => r.storms)), s.faults, options.faults?.results() ?? null, window),
    cpu: { avg: cpuWindow, max: measuredCpu.length > 0 ? Math.max(...measuredCpu) : cpuWindow },
    placement,
  });
}

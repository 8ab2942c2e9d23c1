import { randomBytes } from 'node:crypto';
import { availableParallelism, hostname } from 'node:os';
import { nowUs, sleepUntil } from './clock.js';
import { CpuMonitor } from './monitor.js';
import type { ServerCpuProbe } from './server-cpu.js';
import { place, type PeerPlan, type Placement } from './placement.js';
import { decodeHistogram, Recorder } from './recorder.js';
import { buildReport, type MergedTimelinePoint } from './report-json.js';
import type { BenchReport } from './report-schema.js';
import type { LoadedScenario } from './scenario/scenario.js';
import { LocalShard, WorkerShard, workersAvailable, type ShardHandle } from './shard-host.js';
import type { TrafficWindow } from './shard/context.js';
import type { ShardResult } from './shard/shard.js';
import type { Progress } from './shard/timeline.js';

/**
 * One bench run, start to end: place the peers, split them over generator threads, ramp the
 * connections, run warm-up and measured traffic, drain, close, merge what every thread
 * measured, and build the report.
 */

export type Phase = 'ramp' | 'warmup' | 'measure' | 'drain' | 'closing';

export interface LiveProgress {
  readonly phase: Phase;
  readonly elapsedS: number;
  readonly peers: number;
  readonly open: number;
  readonly registered: number;
  readonly relaysPerS: number;
  readonly opsPerS: number;
  readonly errors: number;
  readonly relayP99Us: number;
  /** How long the run is planned to take: the ramp at the connect rate, warm-up, measuring, drain. */
  readonly plannedS: number;
}

export interface RunOptions {
  readonly loaded: LoadedScenario;
  readonly urls: readonly string[];
  /** Generator threads (1: everything in this thread). */
  readonly threads: number;
  readonly sourceAddresses?: readonly string[] | 'auto';
  readonly spawned?: { instances: number; backend: 'memory' | 'redis'; ready_ms: number[] } | null;
  /** Reads the spawned servers' CPU over the measured window (reported with them). */
  readonly serverCpu?: ServerCpuProbe;
  readonly onProgress?: (progress: LiveProgress) => void;
  /** Run a single shard in this thread even when worker threads are available. */
  readonly inThread?: boolean;
  /** Aborts the run (e.g. on Ctrl-C): connections are cut and the promise rejects. */
  readonly signal?: AbortSignal;
}

/** Threads to use when none are asked for: one for small runs, up to two for large ones. */
export function defaultThreads(peers: number): number {
  return peers >= 5000 ? Math.min(2, availableParallelism()) : 1;
}

/** Splits whole rooms over `n` shards, largest rooms first onto the least loaded shard. */
export function splitRooms(placement: Placement, n: number): PeerPlan[][] {
  const shards: PeerPlan[][] = Array.from({ length: n }, () => []);
  const load = new Array<number>(n).fill(0);
  const order = placement.rooms.map((members, r) => ({ r, size: members.length })).sort((a, b) => b.size - a.size || a.r - b.r);
  const assigned = new Array<number>(placement.rooms.length);
  for (const { r, size } of order) {
    let best = 0;
    for (let k = 1; k < n; k++) if (load[k]! < load[best]!) best = k;
    assigned[r] = best;
    load[best]! += size;
  }
  for (const plan of placement.peers) shards[assigned[plan.room]!]!.push(plan);
  return shards.filter((s) => s.length > 0);
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
  const cpuBySecond = new Map<number, number>();
  let phase: Phase = 'ramp';
  let last = { at: nowUs(), relays: 0, ops: 0 };
  const tick = () => {
    const i = Math.max(0, Math.floor((nowUs() - runStartUs) / 1_000_000) - 1);
    cpuBySecond.set(i, cpu.take());
    const all = handles.map((h) => h.progress()).filter((p): p is Progress => p !== null);
    const sum = (f: (p: Progress) => number) => all.reduce((a, p) => a + f(p), 0);
    const at = nowUs();
    const relays = sum((p) => p.relaysReceived);
    const ops = sum((p) => p.ops);
    const dt = Math.max(1e-3, (at - last.at) / 1_000_000);
    options.onProgress?.({
      phase,
      elapsedS: (at - runStartUs) / 1_000_000,
      peers: s.peers,
      open: sum((p) => p.open),
      registered: sum((p) => p.registered),
      relaysPerS: (relays - last.relays) / dt,
      opsPerS: (ops - last.ops) / dt,
      errors: sum((p) => p.errors),
      relayP99Us: Math.max(0, ...all.map((p) => p.relayP99Us)),
      plannedS: plannedSeconds(s),
    });
    last = { at, relays, ops };
  };
  let ticker: NodeJS.Timeout | null = null;
  const scheduleTick = () => {
    const elapsed = nowUs() - runStartUs;
    const next = (Math.floor(elapsed / 1_000_000) + 1) * 1_000_000;
    ticker = setTimeout(() => {
      tick();
      scheduleTick();
    }, Math.max(1, (next - elapsed) / 1000));
  };
  scheduleTick();

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
    phase = 'warmup';
    const phaseTimers = [
      setTimeout(() => {
        phase = 'measure';
        cpu.resetWindow();
        options.serverCpu?.begin();
      }, (window.measureStartUs - nowUs()) / 1000),
      setTimeout(() => {
        phase = 'drain';
        cpuWindow = cpu.windowShare();
        options.serverCpu?.end();
      }, (window.endUs - nowUs()) / 1000),
    ];
    await guarded(Promise.all(handles.map((h) => h.traffic(window))));
    phaseTimers.forEach(clearTimeout);
    if (nowUs() < window.endUs) await sleepUntil(window.endUs);
    if ((phase as Phase) !== 'drain') {
      cpuWindow = cpu.windowShare();
      options.serverCpu?.end();
    }
    trafficEndUs = nowUs();
    phase = 'closing';
    results = await guarded(Promise.all(handles.map((h) => h.finish())));
  } catch (err) {
    await Promise.all(handles.map((h) => h.abort().catch(() => {})));
    throw err;
  } finally {
    if (ticker) clearTimeout(ticker);
  }
  tick();
  const finishedUs = nowUs();

  // ---- Merge the threads' measurements.
  const recorder = new Recorder();
  for (const r of results) recorder.merge(r.recorder);
  const worstLoop = results.reduce(
    (w, r) => ({ p50Ms: Math.max(w.p50Ms, r.loop.p50Ms), p99Ms: Math.max(w.p99Ms, r.loop.p99Ms), maxMs: Math.max(w.maxMs, r.loop.maxMs) }),
    { p50Ms: 0, p99Ms: 0, maxMs: 0 },
  );
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
  const timeline = [...points.values()]
    .sort((a, b) => a.i - b.i)
    .map(({ hist, ...p }) => ({
      ...p,
      relayP50Us: hist.totalCount > 0 ? hist.getValueAtPercentile(50) : null,
      relayP99Us: hist.totalCount > 0 ? hist.getValueAtPercentile(99) : null,
    }));
  const measuredCpu = timeline.filter((p) => p.phase === 'measure').map((p) => p.cpu);
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
    recorder,
    timeline,
    loop: worstLoop,
    cpu: { avg: cpuWindow, max: measuredCpu.length > 0 ? Math.max(...measuredCpu) : cpuWindow },
    placement,
    peakOpen: results.reduce((a, r) => a + r.peakOpen, 0),
    openAtEnd: results.reduce((a, r) => a + r.openAtEnd, 0),
    rampConnected: results.reduce((a, r) => a + r.rampConnected, 0),
    rampRegistered: results.reduce((a, r) => a + r.rampRegistered, 0),
  });
}

/** The run's planned length in seconds: the ramp at the connect rate, warm-up, measuring, drain. */
export function plannedSeconds(s: { readonly peers: number; readonly connect: { readonly rate: number }; readonly warmupMs: number; readonly durationMs: number; readonly drainMs: number }): number {
  return s.peers / s.connect.rate + (s.warmupMs + s.durationMs + s.drainMs) / 1000;
}

import { place } from '../../src/bench/placement.js';
import { Recorder } from '../../src/bench/recorder.js';
import { buildReport } from '../../src/bench/report-json.js';
import type { BenchReport } from '../../src/bench/report-schema.js';
import { validateScenario } from '../../src/bench/scenario/load.js';
import type { LoadedScenario } from '../../src/bench/scenario/scenario.js';

/**
 * A report built from hand-made measurements (no network): for threshold, table, HTML and
 * compare tests. `fill` records into the recorder; `scenario` is a raw scenario object.
 */
export function fakeReport(fill: (r: Recorder) => void = () => {}, scenario: Record<string, unknown> = {}, urls = ['ws://127.0.0.1:1']): BenchReport {
  const loaded: LoadedScenario = validateScenario({ peers: 10, rooms: 1, duration: '10s', ...scenario }, { source: 'test' });
  const recorder = new Recorder();
  fill(recorder);
  const placement = place(loaded.scenario, urls.length, 'test', 'auto', urls);
  return buildReport({
    runId: 'test',
    loaded,
    urls,
    spawned: null,
    threads: 1,
    host: 'test-host',
    startedAt: new Date(0),
    finishedAt: new Date(1000),
    phases: { ramp_s: 1, warmup_s: 2, measure_s: 10, drain_s: 0.5, total_s: 13.5 },
    recorder,
    timeline: [
      { i: 0, phase: 'ramp', open: 10, registered: 10, relaysSent: 0, relaysReceived: 0, ops: 0, errors: 0, loopP99Ms: 1, cpu: 0.1, relayP50Us: null, relayP99Us: null },
      { i: 1, phase: 'measure', open: 10, registered: 10, relaysSent: 100, relaysReceived: 99, ops: 110, errors: 1, loopP99Ms: 2, cpu: 0.2, relayP50Us: 900, relayP99Us: 4000 },
    ],
    loop: { p50Ms: 0.5, p99Ms: 3, maxMs: 9 },
    cpu: { avg: 0.2, max: 0.3 },
    placement,
    peakOpen: 10,
    openAtEnd: 10,
    rampConnected: 10,
    rampRegistered: 10,
    storms: [],
  });
}

/** Records `n` relays of `us` each, and matching counters. */
export function relays(r: Recorder, n: number, us: number): void {
  for (let i = 0; i < n; i++) r.record('relay', us);
  r.counters.relaysSent += n;
  r.counters.relaysReceived += n;
  r.counters.scheduled += n;
}

/** Validity limits no busy test host can break: for tests that check counts and exit codes 0 and 2. */
export const LENIENT = { max_event_loop_p99: '1h', max_cpu: 1, max_late_share: 1 } as const;

/** A short run: a few hundred ms of warm-up, 1.5 s measured. */
export function quick(raw: Record<string, unknown>): Record<string, unknown> {
  return {
    connect: { rate: 5000, max_in_flight: 100, timeout: '3s' },
    warmup: '300ms',
    duration: '1500ms',
    drain: '2s',
    validity: LENIENT,
    ...raw,
  };
}

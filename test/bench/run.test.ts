import { describe, expect, it } from 'vitest';
import { runBench } from '../../src/bench/runner.js';
import { reportProblems } from '../../src/bench/report-json.js';
import type { BenchReport } from '../../src/bench/report-schema.js';
import { validateScenario } from '../../src/bench/scenario/load.js';
import { MemoryBackend } from '../../src/state/memory/memory-backend.js';
import { MemoryStore } from '../../src/state/memory/memory-store.js';
import { startServer } from '../helpers/harness.js';
import { renderReport } from '../../src/bench/report-table.js';
import { stripAnsi } from '../cli/cli-helpers.js';
import { quick } from './bench-helpers.js';

/** Runs the bench in this process against `urls` (servers from the harness, stopped after each test). */
async function bench(urls: string[], raw: Record<string, unknown>): Promise<BenchReport> {
  const loaded = validateScenario(quick(raw), { source: 'test' });
  return runBench({ loaded, urls, threads: 1 });
}

function expectCountsAddUp(r: BenchReport): void {
  expect(r.relays.sent).toBe(r.relays.received + r.relays.lost);
  const measured = (r.operations.relay?.count ?? 0) + (r.operations.relay_cross?.count ?? 0);
  expect(measured).toBeLessThanOrEqual(r.relays.received);
  expect(r.errors.total).toBe(Object.values(r.errors.by_class).reduce((a, b) => a + b, 0));
}

describe('a run against a real server', () => {
  it('does every operation, loses nothing, and its counts add up', async () => {
    const server = await startServer();
    const r = await bench([server.url], {
      peers: 160,
      rooms: 4,
      roles: { worker_share: 0.25, presence: true },
      traffic: { rate: 5, pattern: 'worker-client', mix: { relay: 0.7, discover: 0.1, update_metadata: 0.1, offer_answer: 0.1 } },
      thresholds: ['errors==0', 'lost==0', 'registered==100%', 'relay.count>0'],
    });
    expect(r.errors.by_class).toEqual({});
    expect(r.connections).toMatchObject({ peers: 160, connected: 160, registered: 160, attempts: 160 });
    expect(r.operations.connect!.count).toBe(160);
    expect(r.operations.register!.count).toBe(160);
    expectCountsAddUp(r);
    expect(r.relays.lost).toBe(0);
    expect(r.relays.duplicated).toBe(0);
    expect(r.relays.reordered).toBe(0);
    for (const op of ['relay', 'discover', 'update_metadata', 'offer_answer'] as const) expect(r.operations[op]!.count, op).toBeGreaterThan(0);
    // Open model: 160 peers × 5/s × 1.5 s due in the measured window (Poisson, so give or take).
    expect(r.schedule.scheduled).toBeGreaterThan(1000);
    expect(r.schedule.scheduled).toBeLessThan(1400);
    expect(r.operations.relay_cross!.count).toBe(0);
    expect(r.presence_events).toBeGreaterThan(0);
    expect(r.timeline.length).toBeGreaterThanOrEqual(2);
    expect(r.thresholds.every((t) => t.ok)).toBe(true);
    expect(r.verdict).toEqual({ valid: true, thresholds_passed: true, exit_code: 0 });
    // The report is plain JSON that validates against its published schema.
    expect(reportProblems(JSON.parse(JSON.stringify(r)))).toEqual([]);
    expect(server.connectionCount).toBe(0);
  });

  it('closed model: each peer keeps its window of relays in flight and sends the next when one arrives', async () => {
    const server = await startServer({ limits: { ratePerSecond: 100_000, rateBurst: 200_000 } });
    const peers = 40;
    const inFlight = 2;
    // traffic.rate is ignored by the closed model: at 1/s the open model would send ~60 relays.
    const r = await bench([server.url], { peers, rooms: 4, traffic: { model: 'closed', in_flight: inFlight, rate: 1, pattern: 'pairs' }, server: { rate_limit: '100000:200000' } });
    expectCountsAddUp(r);
    expect(r.relays.lost).toBe(0);
    expect(r.errors.total).toBe(0);
    expect(r.schedule.scheduled).toBe(0);
    expect(r.operations.relay!.count).toBeGreaterThan(1500);
    // Never more than the window per peer outstanding, at any second of the run.
    let outstanding = 0;
    for (const p of r.timeline) {
      outstanding += p.relays_sent - p.relays_received;
      expect(outstanding).toBeLessThanOrEqual(peers * inFlight);
    }
    expect(stripAnsi(renderReport(r))).toMatch(/closed loop .* 2 relay\(s\) in flight per peer, the next sent when one arrives: [\d,]+ relays\/s delivered/);
  });

  it.each(['pairs', 'fanout'] as const)('pattern %s: every relay is accounted for', async (pattern) => {
    const server = await startServer();
    const r = await bench([server.url], { peers: 60, rooms: 6, traffic: { rate: 3, pattern }, thresholds: ['lost==0'] });
    expectCountsAddUp(r);
    expect(r.relays.lost).toBe(0);
    expect(r.errors.total).toBe(0);
    // A fan-out message goes to the 9 other peers of its room.
    if (pattern === 'fanout') expect(r.relays.sent).toBeGreaterThan(r.schedule.scheduled * 5);
    else expect(r.relays.sent).toBeLessThan(r.schedule.scheduled * 2);
  });

  it('splits relays across two instances sharing state, and reports cross-instance relays apart', async () => {
    const store = new MemoryStore();
    const a = await startServer({}, { state: new MemoryBackend(store) });
    const b = await startServer({}, { state: new MemoryBackend(store) });
    const r = await bench([a.url, b.url], { peers: 200, rooms: 4, cross_instance_share: 0.5, traffic: { rate: 5, mix: { relay: 0.9, offer_answer: 0.1 } } });
    expectCountsAddUp(r);
    expect(r.relays.lost).toBe(0);
    expect(r.connections.per_url).toEqual([100, 100]);
    expect(r.relays.expected_cross_share).toBeCloseTo(0.5, 2);
    const share = r.relays.cross_instance_sent / r.relays.sent;
    expect(share).toBeGreaterThan(0.35);
    expect(share).toBeLessThan(0.65);
    expect(r.operations.relay!.count).toBeGreaterThan(0);
    expect(r.operations.relay_cross!.count).toBeGreaterThan(0);
    expect(r.errors.total).toBe(0);
  });

  it.each(['close', 'leave'] as const)('churn (%s): peers leave and come back, and nothing in flight is lost', async (mode) => {
    const server = await startServer();
    const r = await bench([server.url], {
      peers: 100,
      rooms: 5,
      roles: { presence: true },
      duration: '2s',
      traffic: { rate: 4, pattern: 'pairs', mix: { relay: 0.8, discover: 0.2 } },
      churn: { rate: 10, downtime: '300ms', grace: '200ms', mode },
    });
    expect(r.connections.churn.left).toBeGreaterThan(8);
    expect(r.connections.churn.rejoined + r.connections.churn.failed).toBe(r.connections.churn.left);
    expect(r.connections.churn.failed).toBe(0);
    expect(r.operations.register!.count).toBe(100 + r.connections.churn.rejoined);
    expect(r.connections.attempts).toBe(mode === 'close' ? 100 + r.connections.churn.rejoined : 100);
    expect(r.schedule.skipped_offline).toBeGreaterThan(0);
    expectCountsAddUp(r);
    expect(r.relays.lost).toBe(0);
    expect(r.errors.total).toBe(0);
    expect(r.presence_events).toBeGreaterThan(0);
  });
});

describe('exit codes from the verdict', () => {
  it('a threshold that fails gives 2', async () => {
    const server = await startServer();
    const r = await bench([server.url], { peers: 20, rooms: 2, traffic: { rate: 5 }, thresholds: ['errors==0', 'relay.p50<1us'] });
    expect(r.thresholds.map((t) => t.ok)).toEqual([true, false]);
    expect(r.verdict).toEqual({ valid: true, thresholds_passed: false, exit_code: 99 });
  });

  it('a generator that falls behind its schedule makes the run invalid: 3', async () => {
    const server = await startServer();
    // Every send counts as late after 1 µs, and no late send is allowed.
    const r = await bench([server.url], { peers: 20, rooms: 2, traffic: { rate: 10 }, late_after: '1us', validity: { max_late_share: 0 }, thresholds: ['errors==0'] });
    expect(r.schedule.late).toBeGreaterThan(0);
    expect(r.generator.valid).toBe(false);
    expect(r.generator.reasons.join('\n')).toMatch(/behind schedule/);
    expect(r.verdict.exit_code).toBe(3);
  });
});

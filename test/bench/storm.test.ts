import { describe, expect, it } from 'vitest';
import { backoffDelay, DEFAULT_BACKOFF } from '../../src/client/backoff.js';
import { checkFaults } from '../../src/bench/bench-flags.js';
import { Random } from '../../src/bench/random.js';
import { peerListOf, sessionTokenOf } from '../../src/bench/registered-frame.js';
import { judge } from '../../src/bench/report-json.js';
import { validateScenario } from '../../src/bench/scenario/load.js';
import { listedTwice, StormWatch } from '../../src/bench/shard/list-watch.js';
import type { Entry } from '../../src/bench/shard/peers.js';
import { pickInstance } from '../../src/bench/shard/reconnect-target.js';
import { ATTRIBUTION_SLACK_US, failureClass, StormLedger } from '../../src/bench/shard/storm-ledger.js';
import { mergeStormTallies, stormReports, type StormReport } from '../../src/bench/storm-report.js';
import { parseThreshold } from '../../src/bench/thresholds.js';
import { UsageError } from '../../src/options/usage-error.js';
import { fakeReport } from './bench-helpers.js';

const window = { startUs: 1_000_000, measureStartUs: 2_000_000, endUs: 31_000_000 };
const faults = [
  { atMs: 5000, action: 'kill', instance: 0 },
  { atMs: 15_000, action: 'drain', instance: 1 },
] as const;

function entry(index: number, room: number, instance: number, online = true): Entry {
  return { plan: { index, peerId: `p${index}`, room, roomId: `r${room}`, role: 'client', url: instance, targets: [] }, peer: { online } as Entry['peer'], instance };
}

describe('reconnect backoff', () => {
  it('is the real clients’ schedule: doubling from the scenario’s first delay up to its longest, with jitter', () => {
    const { scenario } = validateScenario({ reconnect: { enabled: true, initial: '100ms', max: '2s', jitter: 0.5 } });
    const policy = scenario.reconnect.backoff;
    expect(policy).toEqual({ initialDelayMs: 100, maxDelayMs: 2000, jitter: 0.5, maxAttempts: Infinity });
    // Without jitter's random part (random() = 1): 100, 200, 400, ... capped at 2000.
    expect([0, 1, 2, 3, 4, 5, 9].map((a) => backoffDelay(policy, a, () => 1))).toEqual([100, 200, 400, 800, 1600, 2000, 2000]);
    // With it: never below half of the step, never above it.
    const random = new Random(7);
    for (let attempt = 0; attempt < 8; attempt++) {
      const step = Math.min(2000, 100 * 2 ** attempt);
      for (let i = 0; i < 50; i++) {
        const d = backoffDelay(policy, attempt, () => random.next());
        expect(d).toBeGreaterThanOrEqual(step / 2);
        expect(d).toBeLessThanOrEqual(step);
      }
    }
  });

  it('defaults to the real clients’ policy, and is off unless a scenario turns it on', () => {
    const { scenario } = validateScenario({});
    expect(scenario.reconnect.enabled).toBe(false);
    expect(scenario.reconnect.backoff).toEqual(DEFAULT_BACKOFF);
    expect(scenario.faults).toEqual([]);
    expect(scenario.server.serveArgs).toEqual([]);
  });
});

describe('where a displaced peer reconnects', () => {
  it('another instance that is not gone, at random among them', () => {
    const random = new Random(1);
    const seen = new Set<number>();
    for (let i = 0; i < 200; i++) {
      const u = pickInstance(4, new Set([0]), 0, random);
      expect(u).not.toBe(0);
      seen.add(u);
    }
    expect([...seen].sort()).toEqual([1, 2, 3]);
  });

  it('not the one the last attempt failed on while another remains, and something when all are gone', () => {
    const random = new Random(2);
    for (let i = 0; i < 50; i++) expect(pickInstance(3, new Set([0]), 1, random)).toBe(2);
    expect(pickInstance(3, new Set([0, 2]), 1, random)).toBe(1);
    expect([1, 2]).toContain(pickInstance(3, new Set([0, 1, 2]), 0, random));
    expect(pickInstance(1, new Set([0]), 0, random)).toBe(0);
  });
});

describe('the registered reply, read for a reconnect', () => {
  const frame = Buffer.from('{"type":"registered","peer_id":"a","room_id":"r","role":"peer","token":null,"session_token":"AbC-_123","peer_list":["b","c"]}');

  it('gives its session token without a parse, and its peer list when asked', () => {
    expect(sessionTokenOf(frame)).toBe('AbC-_123');
    expect(sessionTokenOf(Buffer.from('{"type":"registered","peer_id":"a"}'))).toBeNull();
    expect(peerListOf(frame)).toEqual(['b', 'c']);
    expect(peerListOf(Buffer.from('{"type":"registered"'))).toBeNull();
  });
});

describe('storm accounting', () => {
  it('places each storm from its fault to the next (the last to the end of the traffic)', () => {
    const ledger = new StormLedger(faults);
    expect(ledger.fromUs).toBe(Infinity);
    ledger.begin(window);
    expect(ledger.storms.map((s) => [s.startUs, s.endUs])).toEqual([
      [6_000_000, 16_000_000],
      [16_000_000, 31_000_000],
    ]);
    expect(ledger.fromUs).toBe(6_000_000);
    expect(ledger.at(5_999_999)).toBeNull();
    expect(ledger.at(16_000_000)).toBe(ledger.storms[1]);
    expect(ledger.gone(10_000_000)).toEqual(new Set([0]));
    expect(ledger.gone(20_000_000)).toEqual(new Set([0, 1]));
  });

  it('takes a close on the faulted instance from a moment before the fault on as the fault’s', () => {
    const ledger = new StormLedger(faults);
    ledger.begin(window);
    expect(ledger.of(0, 6_000_000 - ATTRIBUTION_SLACK_US)).toBe(ledger.storms[0]);
    expect(ledger.of(0, 6_000_000 - ATTRIBUTION_SLACK_US - 1)).toBeNull();
    expect(ledger.of(1, 10_000_000)).toBeNull();
    expect(ledger.of(2, 20_000_000)).toBeNull();
  });

  it('counts relays sent and received by their send time, and refusals by when they came', () => {
    const ledger = new StormLedger(faults);
    ledger.begin(window);
    const ends = (seq: number) => ({ from: 1, to: 2, seq, senderConn: 1, targetConn: 1 });
    const about = { from: 1, conn: 1, to: 2, tracked: true };
    ledger.sent(7_000_000, 7_000_000, ends(0));
    ledger.sent(7_000_001, 7_000_001, ends(1));
    ledger.sent(20_000_000, 20_000_000, ends(2));
    ledger.received(7_000_000, 1, 2, 0);
    ledger.error('protocol.PEER_NOT_FOUND', 8_000_000, about);
    ledger.error('protocol.RATE_LIMITED', 8_000_000, about);
    ledger.error('protocol.SERVICE_UNAVAILABLE', 3_000_000, about);
    const [a, b] = ledger.encode();
    expect([a!.relaysSent, a!.relaysReceived, a!.refused]).toEqual([2, 1, { 'protocol.PEER_NOT_FOUND': 1 }]);
    expect([b!.relaysSent, b!.relaysReceived, b!.refused]).toEqual([1, 0, {}]);
  });

  it('names failed attempts by their step', () => {
    expect(failureClass('connect', 'connect.refused')).toBe('connect.refused');
    expect(failureClass('connect', 'close.1013')).toBe('connect.close.1013');
    expect(failureClass('register', 'protocol.PEER_ID_TAKEN')).toBe('register.protocol.PEER_ID_TAKEN');
    expect(failureClass('register', 'timeout.register')).toBe('register.timeout');
    expect(failureClass('register', 'close.1012')).toBe('register.close.1012');
  });

  it('finds a peer listed twice, and a peer listed to itself', () => {
    expect(listedTwice(['a', 'b'], 'me')).toBe(0);
    expect(listedTwice(['a', 'b', 'a', 'a'], 'me')).toBe(2);
    expect(listedTwice(['a', 'me'], 'me')).toBe(1);
  });

  it('times how long discovery lists an abandoned peer, and counts those it still lists', () => {
    const ledger = new StormLedger(faults);
    ledger.begin(window);
    const storm = ledger.storms[0]!;
    const watcher = entry(1, 0, 2);
    const other = entry(9, 1, 2);
    const watch = new StormWatch(storm, new Map([[0, watcher]]), [entry(2, 0, 0), entry(3, 0, 0), entry(4, 1, 0)]);
    expect(storm.abandonedWatched).toBe(2);
    expect(watch.listed(other, ['p2'], 6_100_000)).toBe(false);
    watch.listed(watcher, ['p2', 'p3', 'x', 'x'], 6_250_000);
    watch.listed(watcher, ['p3'], 6_500_000);
    watch.listed(watcher, ['p2', 'p3'], 6_750_000); // p2 listed again: not gone yet
    watch.listed(watcher, ['p3'], 7_000_000);
    watch.listed(watcher, ['p3'], 7_250_000);
    watch.stop();
    const tally = storm.encode();
    expect(tally.lists).toBe(5);
    expect(tally.listedTwice).toBe(1);
    expect(tally.stillListed).toBe(1);
    const [report] = stormReports([tally], faults, null, window);
    // HDR histograms keep three significant digits.
    expect(report!.discovery.gone_ms!.p50).toBeCloseTo(1000, -1);
    expect(report!.discovery.gone_ms!.max).toBeCloseTo(1000, -1);
  });

  it('merges the threads’ tallies and reports each storm', () => {
    const shard = () => {
      const ledger = new StormLedger(faults);
      ledger.begin(window);
      return ledger;
    };
    const a = shard();
    const b = shard();
    for (const [ledger, backs] of [
      [a, [1_000_000, 2_000_000]],
      [b, [3_000_000]],
    ] as const) {
      const storm = ledger.storms[0]!;
      storm.displaced += 2;
      for (const us of backs) storm.comeBack(storm.startUs + us, storm.startUs + 100_000, { connectUs: 2000, registerUs: us / 2 });
    }
    a.storms[0]!.abandoned = 1;
    a.storms[0]!.attempts = 4;
    a.storms[0]!.failed('register', 'protocol.PEER_ID_TAKEN');
    b.storms[1]!.displaced = 5;
    const merged = mergeStormTallies([a.encode(), b.encode()]);
    const outcomes = [
      { fault: faults[0], plannedUs: 6_000_000, signalledUs: 6_000_400, exitedUs: 6_020_400 },
      { fault: faults[1], plannedUs: 16_000_000, signalledUs: null, exitedUs: null },
    ];
    const [first, second] = stormReports(merged, faults, outcomes, window);
    expect(first).toMatchObject({
      fault: { action: 'kill', instance: 0, at_s: 5, signal_late_ms: 0.4, exited_after_ms: 20 },
      window_s: 10,
      displaced: 4,
      abandoned: 1,
      back: 3,
      not_back: 0,
      attempts: 4,
      failures: { total: 1, peer_id_taken: 1, by_class: { 'register.protocol.PEER_ID_TAKEN': 1 } },
    });
    expect(first!.back_ms!.p50).toBeCloseTo(2000, -1);
    expect(first!.back_ms!.last).toBeCloseTo(3000, -1);
    expect(first!.down_ms!.last).toBeCloseTo(2900, -1);
    expect(first!.steps_ms.connect).toEqual({ p50: 2, p99: 2, last: 2 });
    expect(first!.steps_ms.register!.last).toBeCloseTo(1500, -1);
    expect(second).toMatchObject({ fault: { signal_late_ms: null, exited_after_ms: null }, window_s: 15, displaced: 5, back: 0, not_back: 5, back_ms: null, steps_ms: { connect: null, register: null } });
  });
});

describe('storm thresholds', () => {
  const storm = (over: Partial<StormReport> = {}): StormReport => ({
    fault: { action: 'kill', instance: 0, at_s: 10, signal_late_ms: 0.2, exited_after_ms: 5 },
    window_s: 30,
    displaced: 100,
    abandoned: 5,
    back: 95,
    not_back: 0,
    back_ms: { p50: 800, p99: 2500, last: 3100 },
    down_ms: { p50: 700, p99: 2400, last: 3000 },
    steps_ms: { connect: { p50: 5, p99: 900, last: 1000 }, register: { p50: 20, p99: 1500, last: 1600 } },
    attempts: 110,
    failures: { total: 15, peer_id_taken: 0, by_class: { 'connect.refused': 12, 'register.timeout': 3 } },
    relays: {
      sent: 1000,
      received: 990,
      lost: 10,
      refused: 4,
      refused_by_class: { 'protocol.PEER_NOT_FOUND': 4 },
      lost_by_cause: { refused: 4, sender_closed: 3, target_faulted: 2, unexplained: 1 },
    },
    listed_twice: 0,
    discovery: { rooms_watched: 4, lists: 400, abandoned_watched: 5, gone_ms: { p50: 15_000, max: 19_000 }, still_listed: 0 },
    ...over,
  });
  const judged = (storms: StormReport[], thresholds: string[]) => judge({ ...fakeReport(), storms }, thresholds).thresholds;

  it('parse: times in the duration grammar (ms by default), counts and shares', () => {
    expect(parseThreshold('storm.back.last<5s')).toMatchObject({ kind: 'latency', limit: 5_000_000 });
    expect(parseThreshold('storm.back.p99<2500')).toMatchObject({ kind: 'latency', limit: 2_500_000, unit: 'ms' });
    expect(parseThreshold('storm.failed.register==0')).toMatchObject({ kind: 'count', limit: 0 });
    expect(parseThreshold('storm.not_back<1%')).toMatchObject({ kind: 'share', limit: 0.01 });
    expect(() => parseThreshold('storm.back.p90<1s')).toThrow(/unknown storm metric "back.p90"; use storm.NAME with NAME one of back.p50, back.p99, back.last/);
    expect(() => parseThreshold('storm.failed<1s')).toThrow(/a count takes no unit/);
  });

  it('judge the worst storm’s times and the sum of the counts', () => {
    const results = judged(
      [storm(), storm({ back_ms: { p50: 900, p99: 4000, last: 6000 }, listed_twice: 2 })],
      [
        'storm.back.last<5s',
        'storm.back.p50<1s',
        'storm.displaced==200',
        'storm.failed==30',
        'storm.failed.connect==24',
        'storm.failed.register==6',
        'storm.listed_twice==0',
        'storm.lost<1%',
        'storm.gone.max<20s',
        'storm.lost.unexplained==0',
        'storm.lost.sender_closed<1%',
      ],
    );
    expect(results.map((t) => [t.expression, t.ok, t.actual])).toEqual([
      ['storm.back.last<5s', false, 6],
      ['storm.back.p50<1s', true, 0.9],
      ['storm.displaced==200', true, 200],
      ['storm.failed==30', true, 30],
      ['storm.failed.connect==24', true, 24],
      ['storm.failed.register==6', true, 6],
      ['storm.listed_twice==0', false, 2],
      ['storm.lost<1%', false, 1],
      ['storm.gone.max<20s', true, 19],
      ['storm.lost.unexplained==0', false, 2],
      ['storm.lost.sender_closed<1%', true, 0.3],
    ]);
  });

  it('fail when the run had no storm, saying why', () => {
    const [t] = judged([], ['storm.failed==0']);
    expect(t).toMatchObject({ ok: false, actual: null, detail: 'no storm in this run (the scenario has no faults)' });
  });

  it('fail on a report that does not split the lost relays (an older version), saying why', () => {
    const old = storm();
    delete old.relays.lost_by_cause;
    const [t] = judged([old], ['storm.lost.unexplained==0']);
    expect(t).toMatchObject({ ok: false, actual: null, detail: 'the report does not split lost relays by cause (an older version)' });
    expect(() => parseThreshold('storm.lost.silent==0')).toThrow(/lost\.refused, lost\.sender_closed, lost\.target_faulted, lost\.unexplained/);
  });
});

describe('faults in a scenario', () => {
  const refusal = (raw: Record<string, unknown>) => {
    try {
      validateScenario({ warmup: '1s', duration: '10s', ...raw });
    } catch (err) {
      return (err as Error).message;
    }
    return '';
  };

  it('resolve in time order, each on its instance', () => {
    const { scenario } = validateScenario({ faults: [{ at: '2s', action: 'kill', instance: 0 }, { at: '5s', action: 'drain', instance: 1 }], server: { serve_args: ['--reap-after', '5s'] } });
    expect(scenario.faults).toEqual([
      { atMs: 2000, action: 'kill', instance: 0 },
      { atMs: 5000, action: 'drain', instance: 1 },
    ]);
    expect(scenario.server.serveArgs).toEqual(['--reap-after', '5s']);
  });

  it('are refused outside the traffic, out of order, twice on one instance, or with the closed model', () => {
    expect(refusal({ faults: [{ at: '11s', action: 'kill', instance: 0 }] })).toMatch(/\/faults\/0\/at: 11 s is not within the traffic \(warm-up \+ duration = 11 s\)/);
    expect(refusal({ faults: [{ at: '5s', action: 'kill', instance: 0 }, { at: '2s', action: 'drain', instance: 1 }] })).toMatch(/\/faults\/1\/at: faults are listed in time order/);
    expect(refusal({ faults: [{ at: '2s', action: 'kill', instance: 0 }, { at: '5s', action: 'drain', instance: 0 }] })).toMatch(/\/faults\/1\/instance: instance 0 is already gone/);
    expect(refusal({ traffic: { model: 'closed' }, server: { rate_limit: '100000' }, faults: [{ at: '2s', action: 'kill', instance: 0 }] })).toMatch(/the closed model runs without faults/);
    expect(refusal({ faults: [{ at: '2s', action: 'stop', instance: 0 }] })).toMatch(/\/faults\/0\/action/);
    expect(refusal({ reconnect: { initial: '3s', max: '1s' } })).toMatch(/\/reconnect\/initial: the first delay is longer than reconnect.max/);
  });

  it('need instances the bench spawned, at least two, and the ones they name', () => {
    const { scenario } = validateScenario({ faults: [{ at: '2s', action: 'kill', instance: 2 }] });
    const usage = (flags: Record<string, unknown>) => {
      try {
        checkFaults({ progress: true, ...flags }, scenario);
      } catch (err) {
        expect(err).toBeInstanceOf(UsageError);
        return (err as Error).message;
      }
      return '';
    };
    expect(usage({ url: ['ws://127.0.0.1:1'] })).toMatch(/needs instances the bench starts itself, --spawn N --redis URL/);
    expect(usage({ spawn: 1 })).toMatch(/--spawn 1 leaves the displaced peers nowhere to go/);
    expect(usage({ spawn: 2, redis: 'redis://x' })).toMatch(/a fault acts on instance 2, but --spawn 2 starts instances 0 to 1/);
    expect(usage({ spawn: 3, redis: 'redis://x' })).toBe('');
    const two = validateScenario({ faults: [{ at: '2s', action: 'kill', instance: 0 }, { at: '5s', action: 'drain', instance: 1 }] }).scenario;
    expect(() => checkFaults({ progress: true, spawn: 2, redis: 'redis://x' }, two)).toThrow(/its 2 faults leave none of the 2 instances for the displaced peers; spawn more/);
    expect(() => checkFaults({ progress: true }, validateScenario({}).scenario)).not.toThrow();
  });
});

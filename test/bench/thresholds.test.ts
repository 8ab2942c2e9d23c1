import { describe, expect, it } from 'vitest';
import { evaluateThresholds, parseThreshold } from '../../src/bench/thresholds.js';
import { judge } from '../../src/bench/report-json.js';
import { fakeReport, relays } from './bench-helpers.js';

describe('threshold expressions', () => {
  it('parse latencies into µs, counts, rates and shares', () => {
    expect(parseThreshold('relay.p99<20ms')).toMatchObject({ metric: 'relay.p99', comparator: '<', limit: 20_000, kind: 'latency' });
    expect(parseThreshold('relay.p99 <= 1.5s')).toMatchObject({ comparator: '<=', limit: 1_500_000 });
    expect(parseThreshold('connect.p99.9<800us')).toMatchObject({ metric: 'connect.p99.9', limit: 800 });
    expect(parseThreshold('relay.p999<8')).toMatchObject({ metric: 'relay.p99.9', limit: 8000, unit: 'ms' });
    expect(parseThreshold('errors==0')).toMatchObject({ metric: 'errors', comparator: '==', limit: 0, kind: 'count' });
    expect(parseThreshold('errors.connect.refused<3')).toMatchObject({ metric: 'errors.connect.refused', limit: 3 });
    expect(parseThreshold('lost<0.1%')).toMatchObject({ metric: 'lost', kind: 'share', limit: 0.001 });
    expect(parseThreshold('relay.rate>=900/s')).toMatchObject({ kind: 'rate', limit: 900 });
  });

  it('write times in the one duration grammar (µs too)', () => {
    expect(parseThreshold('relay.p99<250µs')).toMatchObject({ limit: 250, unit: 'µs' });
    expect(parseThreshold('relay.max<1m')).toMatchObject({ limit: 60_000_000, kind: 'latency', unit: 'm' });
    expect(parseThreshold('server_cpu_per_relay<100')).toMatchObject({ limit: 100, unit: 'us' });
  });

  it('refuse nonsense with a message that shows the right form', () => {
    expect(() => parseThreshold('relay p99 < 20ms')).toThrow(/is not METRIC OP VALUE\[UNIT\], e\.g\. "relay\.p99<20ms"/);
    expect(() => parseThreshold('relay.p98<1ms')).toThrow(/no statistic "p98"/);
    expect(() => parseThreshold('relay.p99<3%')).toThrow(/a latency takes a duration unit \(us, ms, s, m, h, d\), not "%"/);
    expect(() => parseThreshold('errors<3ms')).toThrow(/a count takes no unit/);
    expect(() => parseThreshold('lost.x<3')).toThrow(/lost takes no "\.x"/);
    expect(() => parseThreshold('cpu<3')).toThrow(/unknown metric "cpu"/);
  });
});

describe('evaluating thresholds', () => {
  const report = fakeReport((r) => {
    relays(r, 980, 2_000);
    relays(r, 20, 50_000);
    r.counters.relaysSent += 4; // four lost
    r.error('connect.refused', 2);
    r.error('protocol.RATE_LIMITED', 1);
  });

  it('measures what each metric names', () => {
    const results = evaluateThresholds(
      ['relay.p50<3ms', 'relay.p99<20ms', 'relay.max<=60ms', 'relay.count==1000', 'errors==3', 'errors.connect==2', 'errors.protocol.RATE_LIMITED==1', 'errors.close==0', 'lost==4', 'lost<1%', 'registered==100%'],
      report,
    );
    expect(results.map((r) => [r.expression, r.ok])).toEqual([
      ['relay.p50<3ms', true],
      ['relay.p99<20ms', false],
      ['relay.max<=60ms', true],
      ['relay.count==1000', true],
      ['errors==3', true],
      ['errors.connect==2', true],
      ['errors.protocol.RATE_LIMITED==1', true],
      ['errors.close==0', true],
      ['lost==4', true],
      ['lost<1%', true],
      ['registered==100%', true],
    ]);
    const p99 = results[1]!;
    expect(p99.actual).toBeCloseTo(50, 0);
    expect(p99.unit).toBe('ms');
    expect(p99.detail).toMatch(/fails < 20ms/);
    expect(results[9]!.actual).toBeCloseTo((4 / 1004) * 100, 3);
  });

  it("server_cpu_per_relay: the spawned servers' CPU over the measured window, per relay measured", () => {
    expect(parseThreshold('server_cpu_per_relay<100us')).toMatchObject({ metric: 'server_cpu_per_relay', kind: 'latency', limit: 100 });
    expect(parseThreshold('server_cpu_per_relay<0.1ms')).toMatchObject({ limit: 100 });
    expect(() => parseThreshold('server_cpu_per_relay<5%')).toThrow(/takes a duration unit \(us, ms, s, m, h, d\)/);
    // Two instances at 40% and 60% of a core for the 10 s measured, 1,000 relays: 10 ms each.
    const spawned = { ...report, run: { ...report.run, spawned: { instances: 2, backend: 'redis' as const, ready_ms: [1, 1], cpu: { instances: [0.4, 0.6], redis: 0.1 } } } };
    const [ok, fail] = evaluateThresholds(['server_cpu_per_relay<=10ms', 'server_cpu_per_relay<9ms'], spawned);
    expect(ok).toMatchObject({ ok: true, actual: 10, unit: 'ms' });
    expect(fail).toMatchObject({ ok: false });
    // Servers given with --url: their CPU is not known, so the threshold cannot pass.
    const [unknown] = evaluateThresholds(['server_cpu_per_relay<1s'], report);
    expect(unknown).toMatchObject({ ok: false, actual: null });
    expect(unknown!.detail).toMatch(/--spawn/);
  });

  it('fails a latency threshold with no samples instead of passing it silently', () => {
    const [r] = evaluateThresholds(['discover.p99<1s'], report);
    expect(r).toMatchObject({ ok: false, actual: null, detail: 'no discover samples' });
  });

  it('set the verdict: 0 all pass, 2 one fails, 3 invalid (wins over 2)', () => {
    expect(judge(report, ['errors==3']).verdict).toEqual({ valid: true, thresholds_passed: true, exit_code: 0 });
    expect(judge(report, ['errors==3', 'errors==0']).verdict).toEqual({ valid: true, thresholds_passed: false, exit_code: 99 });
    const invalid = { ...report, generator: { ...report.generator, valid: false, reasons: ['stalled'] } };
    expect(judge(invalid, ['errors==0']).verdict).toEqual({ valid: false, thresholds_passed: false, exit_code: 3 });
  });
});

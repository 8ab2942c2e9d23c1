import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { BenchError } from '../../src/bench/bench-error.js';
import { framesPerSecondPerPeer } from '../../src/bench/scenario/checks.js';
import { loadScenario, SCENARIO_DIR, shippedScenarioNames, validateScenario } from '../../src/bench/scenario/load.js';
import { scenarioJsonSchema } from '../../src/bench/scenario/schema.js';

const files = readdirSync(SCENARIO_DIR).filter((f) => f.endsWith('.json') && f !== 'scenario.schema.json');

function problems(raw: unknown, overrides: Record<string, unknown> = {}, flagNames: Record<string, string> = {}): string {
  try {
    validateScenario(raw, { source: 'test.json', overrides, flagNames });
  } catch (err) {
    expect(err).toBeInstanceOf(BenchError);
    expect((err as BenchError).code).toBe('scenario_invalid');
    return (err as Error).message;
  }
  throw new Error('expected the scenario to be refused');
}

describe('shipped scenarios', () => {
  it('include the seven the issue asks for and the reconnect storms, each a file (plus the perf-* files of docs/performance.md)', () => {
    const names = files.map((f) => f.replace(/\.json$/, ''));
    expect(names.filter((n) => !n.startsWith('perf-')).sort()).toEqual([...shippedScenarioNames()].sort());
    expect(shippedScenarioNames()).toHaveLength(9);
  });

  it.each(files)('%s parses, validates, and is named after its file', async (file) => {
    const loaded = await loadScenario(join(SCENARIO_DIR, file));
    expect(loaded.scenario.name).toBe(file.replace(/\.json$/, ''));
    expect(loaded.scenario.description.length).toBeGreaterThan(20);
    // Every shipped scenario stays under the server's default rate limit per connection.
    expect(framesPerSecondPerPeer(loaded.scenario)).toBeLessThan(loaded.scenario.server.rateLimit.perSecond * 0.8);
    expect(loaded.scenario.thresholds.length).toBeGreaterThan(0);
  });

  it('can be named without a path', async () => {
    const loaded = await loadScenario('smoke');
    expect(loaded.scenario.peers).toBe(20);
    expect(loaded.source.endsWith('smoke.json')).toBe(true);
  });

  it('sizes match their names', async () => {
    expect((await loadScenario('small-lab')).scenario.peers).toBe(10);
    expect((await loadScenario('research-team')).scenario.peers).toBe(100);
    expect((await loadScenario('10k-connections')).scenario.peers).toBe(10_000);
    expect((await loadScenario('churn')).scenario.churn.rate).toBeGreaterThan(0);
    expect((await loadScenario('cross-instance')).scenario.crossShare).toBeGreaterThan(0);
    const discovery = (await loadScenario('discovery-heavy')).scenario.traffic.mix;
    expect(discovery.discover).toBeGreaterThan(discovery.relay);
  });

  it('scenario.schema.json is the schema the bench validates with', () => {
    const onDisk = JSON.parse(readFileSync(join(SCENARIO_DIR, 'scenario.schema.json'), 'utf8'));
    expect(onDisk).toEqual(scenarioJsonSchema());
  });
});

describe('scenario validation', () => {
  it('takes the generator thread count a scenario asks for, and none by default', () => {
    expect(validateScenario({ threads: 1 }).scenario.threads).toBe(1);
    expect(validateScenario({}).scenario.threads).toBeNull();
    expect(() => validateScenario({ threads: 0 })).toThrow(/threads/);
  });

  it('fills defaults and resolves units', () => {
    const { scenario, effective } = validateScenario({ peers: 40, rooms: 4, duration: '1.5s', traffic: { payload_bytes: 1024 } });
    expect(scenario.durationMs).toBe(1500);
    expect(scenario.warmupMs).toBe(2000);
    expect(scenario.traffic.payloadBytes).toBe(1024);
    expect(scenario.traffic.mix).toEqual({ relay: 1, discover: 0, update_metadata: 0, offer_answer: 0 });
    expect(effective.connect?.max_in_flight).toBe(100);
    expect(effective.name).toBe('adhoc');
  });

  it('normalises the mix', () => {
    const { scenario } = validateScenario({ peers: 4, traffic: { mix: { relay: 6, discover: 2, offer_answer: 2 } } });
    expect(scenario.traffic.mix).toEqual({ relay: 0.6, discover: 0.2, update_metadata: 0, offer_answer: 0.2 });
  });

  it('names an unknown key and suggests the right one', () => {
    const text = problems({ peers: 10, duraton: '10s', traffic: { patern: 'pairs' } });
    expect(text).toContain('/duraton: unknown key "duraton" (did you mean "duration"?)');
    expect(text).toContain('/traffic/patern: unknown key "patern" (did you mean "pattern"?)');
  });

  it('says what type, range or choice was expected, and where', () => {
    const text = problems({ peers: 0, traffic: { rate: 'fast', pattern: 'ring' }, connect: { timeout: '10 sec' } });
    expect(text).toMatch(/\/peers: Expected integer to be greater or equal to 1/);
    expect(text).toMatch(/\/traffic\/rate: Expected number/);
    expect(text).toContain('/traffic/pattern: expected one of "pairs", "worker-client", "fanout", got "ring"');
    expect(text).toContain('/connect/timeout: expected a duration like "500ms", "10s", "2m", got "10 sec"');
  });

  it('refuses what cannot run: empty rooms, full rooms, no workers for worker-client, a rate over the limit', () => {
    expect(problems({ peers: 10, rooms: 20 })).toContain('/rooms: 20 rooms for 10 peers');
    expect(problems({ peers: 3000, rooms: 2 })).toMatch(/rooms of up to 1500 peers exceed the server's limit of 1000/);
    expect(problems({ peers: 10, traffic: { pattern: 'worker-client' }, roles: { worker_share: 0 } })).toContain('/roles/worker_share');
    expect(problems({ peers: 10, traffic: { rate: 150 } })).toMatch(/\/traffic\/rate: peers would send about 150\.0 frames\/s each/);
    // A fan-out multiplies the frames by the room size.
    expect(problems({ peers: 50, traffic: { rate: 5, pattern: 'fanout' } })).toMatch(/about 245\.0 frames\/s/);
    // Unless the target allows it.
    expect(() => validateScenario({ peers: 10, traffic: { rate: 150 }, server: { rate_limit: '1000:2000' } })).not.toThrow();
  });

  it('the closed model drives relays only, one target per arrival, without churn; it ignores the rate limit check', () => {
    const closed = (traffic: Record<string, unknown>, more: Record<string, unknown> = {}) => ({ peers: 10, traffic: { model: 'closed', ...traffic }, ...more });
    expect(problems(closed({ mix: { relay: 1, discover: 1 } }))).toContain('/traffic/mix: the closed model drives relays only');
    expect(problems(closed({ pattern: 'fanout' }))).toContain('/traffic/pattern: the closed model sends one relay per arrival');
    expect(problems(closed({}, { churn: { rate: 1 } }))).toContain('/churn/rate: the closed model runs without churn');
    expect(problems(closed({ in_flight: 0 }))).toContain('/traffic/in_flight');
    const ok = validateScenario(closed({ in_flight: 8, rate: 500 }), { source: 'test' }).scenario;
    expect(ok.traffic).toMatchObject({ model: 'closed', inFlight: 8 });
    expect(validateScenario({ peers: 10 }, { source: 'test' }).scenario.traffic).toMatchObject({ model: 'open', inFlight: 1 });
  });

  it('checks thresholds before anything runs', () => {
    const text = problems({ peers: 4, thresholds: ['relay.p99<20ms', 'relay.p98<1ms', 'latency<3'] });
    expect(text).toContain('/thresholds/1: threshold "relay.p98<1ms": relay has no statistic "p98"');
    expect(text).toContain('/thresholds/2: threshold "latency<3": unknown metric "latency"');
    expect(text).not.toContain('/thresholds/0');
  });

  it('applies overrides and blames the flag that set a bad value', () => {
    const { scenario } = validateScenario({ peers: 10, thresholds: ['errors==0'] }, { overrides: { peers: 20, traffic: { rate: 3 }, thresholds: ['lost==0'] } });
    expect(scenario.peers).toBe(20);
    expect(scenario.traffic.rate).toBe(3);
    expect(scenario.thresholds).toEqual(['errors==0', 'lost==0']);
    expect(problems({ peers: 10 }, { rooms: 50 }, { '/rooms': '--rooms' })).toContain('--rooms (/rooms): 50 rooms for 10 peers');
  });

  it('refuses a scenario that is not an object, and a missing file', async () => {
    expect(problems([1, 2])).toContain('a scenario is a JSON object, got an array');
    await expect(loadScenario('no-such-scenario')).rejects.toThrow(/scenario file not found: no-such-scenario \(shipped scenarios: smoke/);
    await expect(loadScenario('no-such-scenario')).rejects.toMatchObject({ code: 'scenario_not_found' });
  });
});

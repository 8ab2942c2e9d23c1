import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { reportProblems } from '../../src/bench/report-json.js';
import type { BenchReport } from '../../src/bench/report-schema.js';
import { BIN, cliEnv, ensureBuilt, killAll, runCli, startServe, stripAnsi } from '../cli/cli-helpers.js';
import { RedisProcess, requireRedis } from '../helpers/redis-process.js';
import { freePort } from '../helpers/net.js';
import { LENIENT } from './bench-helpers.js';

/** The built CLI end to end: `bench --spawn`, output files, exit codes, compare, doctor. */

const dir = mkdtempSync(join(tmpdir(), 'sleap-bench-cli-'));
const scenario = (name: string, raw: Record<string, unknown>): string => {
  const path = join(dir, `${name}.json`);
  writeFileSync(
    path,
    JSON.stringify({
      name,
      peers: 60,
      rooms: 3,
      roles: { worker_share: 0.2 },
      connect: { rate: 2000, max_in_flight: 50, timeout: '5s' },
      warmup: '300ms',
      duration: '1500ms',
      drain: '2s',
      traffic: { rate: 5, pattern: 'worker-client', mix: { relay: 0.7, discover: 0.1, update_metadata: 0.1, offer_answer: 0.1 } },
      validity: LENIENT,
      ...raw,
    }),
  );
  return path;
};
const readReport = (path: string) => JSON.parse(readFileSync(path, 'utf8')) as BenchReport;

function refused(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve(false);
    });
    socket.once('error', () => resolve(true));
  });
}

beforeAll(() => ensureBuilt());
afterEach(() => killAll());
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('bench --spawn 1', () => {
  const json = join(dir, 'a.json');
  const hgrm = join(dir, 'hgrm');
  const html = join(dir, 'a.html');

  it('runs, prints the table, writes JSON, .hgrm and HTML, stops its server, exits 0', async () => {
    const path = scenario('cli-pass', { thresholds: ['errors==0', 'lost==0'] });
    const res = await runCli(['bench', path, '--spawn', '1', '--json', json, '--hgrm', hgrm, '--html', html], { timeoutMs: 30_000 });
    const out = stripAnsi(res.stdout);
    expect(res.stderr).toContain('starting 1 serve instance(s) (in memory)');
    expect(res.code, res.stderr).toBe(0);
    for (const label of ['connect (TCP + upgrade)', 'register → registered', 'relay one-way', 'discover round trip', 'offer → answer round trip', 'p99.9']) {
      expect(out).toContain(label);
    }
    expect(out).toMatch(/✓ errors==0/);
    expect(out).toContain('PASSED');
    // No progress line off a terminal.
    expect(res.stderr).not.toContain('\r');

    const report = readReport(json);
    expect(reportProblems(report)).toEqual([]);
    expect(report.run.spawned).toEqual({ instances: 1, backend: 'memory', ready_ms: [expect.any(Number)], cpu: { instances: [expect.any(Number)], redis: null } });
    expect(report.run.spawned!.ready_ms[0]).toBeGreaterThan(0);
    // The server relayed while measuring: it used some CPU, and at most what its threads can.
    expect(report.run.spawned!.cpu!.instances[0]).toBeGreaterThan(0);
    expect(report.run.spawned!.cpu!.instances[0]).toBeLessThan(availableParallelism() + 0.5);
    expect(out).toMatch(/servers\s+│ CPU \d+% of one core per instance \(measured window\)/);
    expect(res.stderr).toMatch(/accepting \d+\.\d\d s after launch/);
    expect(report.relays.sent).toBe(report.relays.received + report.relays.lost);
    expect(report.connections.registered).toBe(60);
    expect(report.verdict.exit_code).toBe(0);

    const files = readdirSync(hgrm).sort();
    expect(files).toEqual(expect.arrayContaining(['connect.hgrm', 'register.hgrm', 'relay.hgrm', 'schedule_lag.hgrm']));
    const relay = readFileSync(join(hgrm, 'relay.hgrm'), 'utf8');
    expect(relay).toMatch(/Value\s+Percentile\s+TotalCount\s+1\/\(1-Percentile\)/);
    expect(relay).toMatch(/#\[Max\s+=/);

    const page = readFileSync(html, 'utf8');
    expect(page.startsWith('<!doctype html>')).toBe(true);
    expect((page.match(/<svg /g) ?? []).length).toBe(5);
    expect(page).not.toMatch(/<script|\bsrc=|href="http|@import|url\(/);
    expect(page).toContain('PASSED');
    expect(page).toMatch(/<th>servers<\/th><td>CPU \d+% of one core per instance \(measured window\)/);

    // The spawned server is gone.
    expect(await refused(Number(new URL(report.run.targets[0]!).port))).toBe(true);
  }, 45_000);

  it('render writes the same plots from the saved JSON, as standalone SVG files and as the HTML page', async () => {
    const svg = join(dir, 'svg');
    const res = await runCli(['bench', 'render', json, '--svg', svg, '--html', join(dir, 'again.html')]);
    expect(res.code, res.stderr).toBe(0);
    const names = ['connections-over-time.svg', 'generator-health.svg', 'latency-percentiles.svg', 'relay-latency-over-time.svg', 'throughput-over-time.svg'];
    expect(readdirSync(svg).sort()).toEqual(names);
    for (const name of names) {
      const text = readFileSync(join(svg, name), 'utf8');
      expect(text).toMatch(/^<svg [^>]*xmlns="http:\/\/www.w3.org\/2000\/svg"><style>/);
      expect(text.trimEnd().endsWith('</svg>')).toBe(true);
      expect(text).toContain(readReport(json).run.started_at);
    }
    expect(readFileSync(join(svg, 'relay-latency-over-time.svg'), 'utf8')).toMatch(/<path d="M[\d.,L]+" fill="none" stroke="#d62728"/);
    expect(readFileSync(join(svg, 'latency-percentiles.svg'), 'utf8')).toContain('relay one-way');
    expect((readFileSync(join(dir, 'again.html'), 'utf8').match(/<svg /g) ?? []).length).toBe(5);
    const none = await runCli(['bench', 'render', json]);
    expect(none.code).toBe(2);
    expect(none.stderr).toContain('--html FILE and/or --svg DIR');
  });

  it('a failed threshold exits 99 (2 stays bad usage) and says which', async () => {
    const path = scenario('cli-fail', { thresholds: ['errors==0'] });
    const res = await runCli(['bench', path, '--spawn', '1', '--threshold', 'relay.p50<1us', '--json', join(dir, 'b.json')], { timeoutMs: 30_000 });
    expect(res.code, res.stderr).toBe(99);
    const out = stripAnsi(res.stdout);
    expect(out).toMatch(/✓ errors==0/);
    expect(out).toMatch(/✗ relay\.p50<1us/);
    expect(out).toContain('FAILED: 1 threshold(s) not met');
    expect(readReport(join(dir, 'b.json')).verdict).toEqual({ valid: true, thresholds_passed: false, exit_code: 99 });
  }, 45_000);

  it('a run that reaches no server prints one line naming the address and the cause, and exits 1', async () => {
    const closed = await freePort();
    const path = scenario('cli-unreachable', { peers: 5, rooms: 1, thresholds: [] });
    const res = await runCli(['bench', path, '--url', `ws://127.0.0.1:${closed}`, '--report', join(dir, 'u.json')], { timeoutMs: 30_000 });
    expect(res.code, res.stderr).toBe(1);
    expect(res.stdout).toBe('');
    expect(stripAnsi(res.stderr).trim().split('\n').at(-1)).toBe(`sleap-signal: cannot reach ws://127.0.0.1:${closed}: ECONNREFUSED`);
    expect(readReport(join(dir, 'u.json')).connections.connected).toBe(0);
  }, 45_000);

  it('an invalid run (the generator fell behind) exits 3', async () => {
    const path = scenario('cli-invalid', { late_after: '1us', validity: { max_late_share: 0 } });
    const res = await runCli(['bench', path, '--spawn', '1', '--quiet', '--json', join(dir, 'c.json')], { timeoutMs: 30_000 });
    expect(res.code, res.stderr).toBe(3);
    expect(res.stdout).toBe('');
    const report = readReport(join(dir, 'c.json'));
    expect(report.generator.valid).toBe(false);
    // On a busy machine its event loop may have been slow as well: that reason may come first.
    expect(report.generator.reasons.some((r) => /behind schedule/.test(r))).toBe(true);
  }, 45_000);

  it('compare puts two reports side by side with ratios', async () => {
    const res = await runCli(['bench', 'compare', json, join(dir, 'b.json')]);
    expect(res.code, res.stderr).toBe(0);
    const out = stripAnsi(res.stdout);
    expect(out).toMatch(/metric\s+│\s+A: .*a\.json\s+│\s+B: .*b\.json\s+│\s+B\/A/);
    expect(out).toMatch(/relay p99\s+│\s+[\d.]+ ms\s+│\s+[\d.]+ ms\s+│\s+[\d.]+×/);
    expect(out).toMatch(/relays lost\s+│\s+0\s+│\s+0\s+│\s+=/);
    // Two different scenarios: said before the table; a summary line ends it.
    expect(out).toMatch(/^warning: the runs differ \(cli-pass, 60 peers vs cli-fail, 60 peers\)/m);
    expect(out.trimEnd().split('\n').at(-1)).toMatch(/^B vs A: \d+ worse, \d+ better, \d+ within 10%$/);
    const same = stripAnsi((await runCli(['bench', 'compare', json, json])).stdout);
    expect(same).not.toContain('warning');
    expect(same.trimEnd().split('\n').at(-1)).toMatch(/^B vs A: 0 worse, 0 better, \d+ within 10%$/);
    const asJson = await runCli(['bench', 'compare', json, json, '--format', 'json']);
    const rows = JSON.parse(asJson.stdout).rows as { metric: string; ratio: number | null }[];
    expect(rows.find((r) => r.metric === 'relay p99')?.ratio).toBe(1);
    const regression = await runCli(['bench', 'compare', json, join(dir, 'b.json'), '--fail-above', '0.000001']);
    expect(regression.code).toBe(99);
    expect(regression.stderr).toMatch(/regression: .*relay p99/);
  });

  it('--threads 2 runs two generator threads and merges what they measured', async () => {
    const path = scenario('cli-threads', { peers: 80, rooms: 4 });
    const res = await runCli(['bench', path, '--spawn', '1', '--threads', '2', '--quiet', '--json', join(dir, 'd.json')], { timeoutMs: 30_000 });
    expect(res.code, res.stderr).toBe(0);
    const report = readReport(join(dir, 'd.json'));
    expect(report.run.threads).toBe(2);
    expect(report.connections.registered).toBe(80);
    expect(report.operations.register!.count).toBe(80);
    expect(report.relays.sent).toBeGreaterThan(0);
    expect(report.relays.sent).toBe(report.relays.received + report.relays.lost);
    expect(report.relays.lost).toBe(0);
    expect(report.errors.total).toBe(0);
  }, 45_000);
});

describe('bench --spawn 2 --redis', () => {
  const redis = new RedisProcess();
  const haveRedis = requireRedis();
  beforeAll(async () => {
    if (haveRedis) await redis.start();
  });
  afterAll(async () => {
    if (haveRedis) await redis.stop();
  });

  it.runIf(haveRedis)('relays across two instances through Redis, reports them apart, and cleans up its keys', async () => {
    const path = scenario('cli-cross', { peers: 80, rooms: 4, cross_instance_share: 0.5, traffic: { rate: 5, pattern: 'pairs' } });
    const res = await runCli(['bench', path, '--spawn', '2', '--redis', redis.url, '--quiet', '--json', join(dir, 'e.json')], { timeoutMs: 40_000 });
    expect(res.code, res.stderr).toBe(0);
    const report = readReport(join(dir, 'e.json'));
    expect(report.run.spawned).toMatchObject({ instances: 2, backend: 'redis' });
    expect(report.run.spawned!.ready_ms).toHaveLength(2);
    expect(report.run.spawned!.cpu!.instances).toEqual([expect.any(Number), expect.any(Number)]);
    for (const cpu of report.run.spawned!.cpu!.instances) expect(cpu).toBeGreaterThan(0);
    expect(report.run.spawned!.cpu!.redis).toBeGreaterThan(0);
    expect(report.run.targets).toHaveLength(2);
    expect(report.connections.per_url).toEqual([40, 40]);
    expect(report.operations.relay_cross!.count).toBeGreaterThan(0);
    expect(report.operations.relay!.count).toBeGreaterThan(0);
    expect(report.relays.lost).toBe(0);
    expect(report.errors.total).toBe(0);
    const client = redis.client();
    try {
      expect(await client.keys('sleap-bench-*')).toEqual([]);
    } finally {
      client.disconnect();
    }
  }, 45_000);
});

describe('errors of the generator host', () => {
  it('out of file descriptors: connect.EMFILE, from local source addresses that do not exist: connect.EADDRNOTAVAIL', async () => {
    const server = await startServe(['--host', '127.0.0.1', '--port', '0', '--max-connections-per-ip', '0']);
    const run = (shell: string) =>
      new Promise<BenchReport>((resolve, reject) =>
        execFile('sh', ['-c', shell], { cwd: dir, env: cliEnv(), timeout: 30_000, maxBuffer: 16 * 1024 * 1024 }, (err, stdout, stderr) => {
          try {
            resolve(JSON.parse(stdout) as BenchReport);
          } catch {
            reject(new Error(`${err?.message ?? ''}\n${stderr}`));
          }
        }),
      );
    const bench = `"${process.execPath}" "${BIN}" bench --url ${server.url} --rooms 8 --warmup 0 --duration 500ms --quiet --json -`;
    // The generator may hold about 400 files: hundreds of the 700 connections cannot get one.
    const emfile = await run(`ulimit -n 400 && exec ${bench} --peers 700`);
    expect(Object.keys(emfile.errors.by_class)).toEqual(['connect.EMFILE']);
    expect(emfile.errors.total).toBeGreaterThan(200);
    expect(emfile.connections.connected + emfile.errors.total).toBe(700);
    const unavailable = await run(`exec ${bench} --peers 16 --source-address 192.0.2.1`);
    expect(unavailable.errors.by_class).toEqual({ 'connect.EADDRNOTAVAIL': 16 });
  }, 45_000);
});

describe('bench usage and tool errors', () => {
  it('no target, conflicting or incomplete flags: exit 2 with the reason', async () => {
    const cases: [string[], RegExp][] = [
      [['bench', 'smoke'], /bench needs a target: --url ws:\/\/host:port .* or --spawn N/],
      [['bench', 'smoke', '--spawn', '2'], /--spawn 2 needs --redis URL/],
      [['bench', 'smoke', '--url', 'http://x'], /--url must be ws:\/\/host:port/],
      [['bench', 'smoke', '--url', 'ws://127.0.0.1:1', '--spawn', '1'], /give --url or --spawn, not both/],
      [['bench', 'smoke', '--url', 'ws://127.0.0.1:1', '--spawn-node-options=--jitless'], /--spawn-node-options goes with --spawn/],
      [['bench', 'smoke', '--url', 'ws://127.0.0.1:1', '--redis', 'redis://x'], /--redis goes with --spawn/],
      [['bench', 'smoke', '--url', 'ws://127.0.0.1:1', '--threshold', 'relay.p98<1ms'], /option '--threshold <expr>' argument 'relay\.p98<1ms' is invalid\. threshold "relay\.p98<1ms": relay has no statistic "p98"/],
      [['bench', 'smoke', '--url', 'ws://127.0.0.1:1', '--peers', '5000'], /--rooms|\/rooms: rooms of up to 2500 peers/],
      [['bench', 'nope', '--spawn', '1'], /scenario file not found: nope/],
      [['bench', 'smoke', '--rate', 'lots'], /expected a number/],
    ];
    const results = await Promise.all(cases.map(([args]) => runCli(args)));
    cases.forEach(([args, message], i) => {
      expect(results[i]!.code, args.join(' ')).toBe(2);
      expect(results[i]!.stderr, args.join(' ')).toMatch(message);
    });
  }, 45_000);

  it('a scenario file with mistakes: exit 2 listing each with its place', async () => {
    const path = join(dir, 'broken.json');
    writeFileSync(path, JSON.stringify({ peers: -1, duraton: '1s', traffic: { arrival: 'burst' } }));
    const res = await runCli(['bench', path, '--check']);
    expect(res.code).toBe(2);
    expect(res.stderr).toContain('/duraton: unknown key "duraton" (did you mean "duration"?)');
    expect(res.stderr).toContain('/peers: Expected integer to be greater or equal to 1');
    expect(res.stderr).toContain('/traffic/arrival: expected one of "fixed", "poisson", got "burst"');
    writeFileSync(path, '{"peers": 3,');
    const notJson = await runCli(['bench', path, '--check']);
    expect(notJson.code).toBe(2);
    expect(notJson.stderr).toMatch(/broken\.json: not valid JSON/);
  });

  it('--check prints the scenario as it would run, with overrides', async () => {
    const res = await runCli(['bench', 'smoke', '--check', '--peers', '30', '--duration', '2', '--mix', 'relay=3,discover=1']);
    expect(res.code, res.stderr).toBe(0);
    const effective = JSON.parse(res.stdout);
    expect(effective).toMatchObject({ name: 'smoke', peers: 30, duration: '2s', traffic: { mix: { relay: 3, discover: 1, update_metadata: 0, offer_answer: 0 } } });
  });

  it('a file that is not a report: tool error, exit 1', async () => {
    const res = await runCli(['bench', 'compare', join(dir, 'broken.json'), join(dir, 'broken.json')]);
    expect(res.code).toBe(1);
    expect(res.stderr).toMatch(/broken\.json/);
  });

  it('schema prints the JSON Schemas; help lists the subcommands', async () => {
    const report = await runCli(['bench', 'schema', 'report']);
    expect(report.code).toBe(0);
    expect(JSON.parse(report.stdout).$id).toMatch(/bench-report-v1/);
    const help = await runCli(['bench', '--help']);
    expect(help.code).toBe(0);
    expect(help.stdout).toMatch(/compare .*<a> <b>/);
    expect(help.stdout).toMatch(/doctor/);
    expect(help.stdout).toMatch(/--threshold <expr>/);
  });
});

describe('bench doctor', () => {
  it('checks the host and prints the exact fixes for what falls short', async () => {
    const ok = await runCli(['bench', 'doctor', '--connections', '100', '--format', 'json']);
    const parsed = JSON.parse(ok.stdout) as { checks: { name: string; status: string }[] };
    const names = parsed.checks.map((c) => c.name);
    expect(names).toEqual(expect.arrayContaining(['open files (ulimit -n)', 'ephemeral ports (ip_local_port_range)', 'TIME_WAIT budget', 'accept backlog (somaxconn, tcp_max_syn_backlog)']));
    expect(ok.code).toBe(parsed.checks.some((c) => c.status === 'fail') ? 1 : 0);

    // More connections than any open-file limit allows: a failure, with the commands that fix it.
    const big = await runCli(['bench', 'doctor', '--connections', '50000000']);
    expect(big.code).toBe(1);
    const out = stripAnsi(big.stdout);
    expect(out).toMatch(/open files \(ulimit -n\).*FAIL/s);
    expect(out).toContain('Fixes:');
    expect(out).toMatch(/nofile 67108864|ulimit -n 67108864/);
    expect(existsSync(dir)).toBe(true);
  });
});

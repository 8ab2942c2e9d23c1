import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BenchReport } from '../../src/bench/report-schema.js';
import { ensureBuilt, runCli } from '../cli/cli-helpers.js';

/**
 * The CI regression check of issue 7: `scenarios/perf-ci.json` against a spawned server passes, and
 * the same server made several times slower (V8 without its JIT compilers) fails it. What is
 * checked is the server's CPU time per relay, which other tests' load moves far less than latency
 * or throughput.
 */

const dir = mkdtempSync(join(tmpdir(), 'sleap-perf-ci-'));
beforeAll(() => ensureBuilt());
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const cpuCheck = (r: BenchReport) => r.thresholds.find((t) => t.expression.startsWith('server_cpu_per_relay'))!;

describe('perf-ci: the regression scenario', () => {
  it('passes on this build, and fails on a server three or more times slower', async () => {
    const normal = await runCli(['bench', 'perf-ci', '--spawn', '1', '--quiet', '--json', join(dir, 'normal.json')], { timeoutMs: 40_000 });
    expect(normal.code, normal.stderr).toBe(0);
    const a = JSON.parse(readFileSync(join(dir, 'normal.json'), 'utf8')) as BenchReport;
    expect(a.thresholds.map((t) => [t.expression, t.ok])).toEqual([
      ['errors==0', true],
      ['lost==0', true],
      ['server_cpu_per_relay<100us', true],
    ]);
    expect(cpuCheck(a).actual).toBeGreaterThan(0);

    const slow = await runCli(['bench', 'perf-ci', '--spawn', '1', '--spawn-node-options=--jitless', '--quiet', '--json', join(dir, 'slow.json')], { timeoutMs: 60_000 });
    expect(slow.code, slow.stderr).toBe(2);
    const b = JSON.parse(readFileSync(join(dir, 'slow.json'), 'utf8')) as BenchReport;
    expect(b.errors.total).toBe(0);
    expect(b.relays.lost).toBe(0);
    expect(cpuCheck(b).ok).toBe(false);
    // The slowdown is real: the server spent several times the CPU per relay.
    expect(cpuCheck(b).actual!).toBeGreaterThan(cpuCheck(a).actual! * 2);
  }, 120_000);
});

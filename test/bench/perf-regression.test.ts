import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BenchReport } from '../../src/bench/report-schema.js';
import { ensureBuilt, runCli } from '../cli/cli-helpers.js';

/**
 * The CI regression check of issue 7: `scenarios/perf-ci.json` against a spawned server passes, and
 * the same server made several times slower (V8 without its JIT compilers) fails a limit of twice the first run's figure. What is
 * checked is the server's CPU time per relay, which other tests' load moves far less than latency
 * or throughput.
 */

const dir = mkdtempSync(join(tmpdir(), 'sleap-perf-ci-'));
beforeAll(() => ensureBuilt());
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const cpuCheck = (r: BenchReport, expression = 'server_cpu_per_relay<100us') => r.thresholds.find((t) => t.expression === expression)!;

/**
 * One bench run against a spawned server; its report and exit code. A run on a machine busy with
 * other suites may be judged invalid (exit 3: the generator lacked CPU) or see its figure pushed
 * past the limit: the measurement is what is checked, and a run that is inconclusive is repeated
 * once.
 */
async function measure(name: string, extra: string[], conclusive: (r: BenchReport, code: number | null) => boolean) {
  let last: { report: BenchReport; code: number | null; stderr: string } | null = null;
  for (let attempt = 1; attempt <= 2; attempt++) {
    const out = join(dir, `${name}-${attempt}.json`);
    const run = await runCli(['bench', 'perf-ci', '--spawn', '1', ...extra, '--quiet', '--json', out], { timeoutMs: 60_000 });
    expect([0, 99, 3], run.stderr).toContain(run.code);
    last = { report: JSON.parse(readFileSync(out, 'utf8')) as BenchReport, code: run.code, stderr: run.stderr };
    if (conclusive(last.report, last.code)) break;
  }
  return last!;
}

describe('perf-ci: the regression scenario', () => {
  it('passes on this build, and fails on a server three or more times slower', async () => {
    const normal = await measure('normal', [], (r, code) => code === 0 || cpuCheck(r).ok);
    const a = normal.report;
    // Nothing lost or failed, and the CPU per relay under its limit (the exit code is 0 unless the
    // generator itself was starved, which says nothing of the server).
    expect(a.thresholds.map((t) => [t.expression, t.ok])).toEqual([
      ['errors==0', true],
      ['lost==0', true],
      ['server_cpu_per_relay<100us', true],
    ]);
    expect([0, 3]).toContain(normal.code);
    expect(cpuCheck(a).actual).toBeGreaterThan(0);

    // The scenario's absolute limit is a ceiling for slow machines; on a fast one a server several
    // times slower can stay under it. So the slow server is judged against twice this build's figure
    // on this machine, measured a moment ago.
    const relative = `server_cpu_per_relay<${Math.ceil(cpuCheck(a).actual! * 2)}us`;
    const slow = await measure('slow', ['--spawn-node-options=--jitless', '--threshold', relative], (r) => !cpuCheck(r, relative).ok);
    const b = slow.report;
    expect(slow.code, slow.stderr).not.toBe(0);
    expect(cpuCheck(b, relative).ok).toBe(false);
    // The slowdown is real: the server spent several times the CPU per relay.
    expect(cpuCheck(b).actual!).toBeGreaterThan(cpuCheck(a).actual! * 2);
  }, 240_000);
});

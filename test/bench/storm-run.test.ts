import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BenchReport } from '../../src/bench/report-schema.js';
import { reportProblems } from '../../src/bench/report-json.js';
import { renderReport } from '../../src/bench/report-table.js';
import { ensureBuilt, runCli, stripAnsi } from '../cli/cli-helpers.js';
import { RedisProcess, requireRedis } from '../helpers/redis-process.js';

/**
 * Issue 16's reconnect storm at CI size: `scenarios/reconnect-storm-ci.json` with three spawned
 * instances on a real Redis. Instance 0 is killed, instance 1 drained; every displaced peer must
 * come back, with no PEER_ID_TAKEN and nothing listed twice (the scenario's thresholds).
 */

const hasRedis = requireRedis();
const dir = mkdtempSync(join(tmpdir(), 'sleap-storm-'));
const redis = new RedisProcess();

beforeAll(async () => {
  ensureBuilt();
  if (hasRedis) await redis.start();
}, 30_000);
afterAll(async () => {
  await redis.stop();
  rmSync(dir, { recursive: true, force: true });
});

/** One run; a run whose thresholds failed on a busy machine is repeated once. */
async function storm(): Promise<{ report: BenchReport; code: number | null; stderr: string }> {
  let last: { report: BenchReport; code: number | null; stderr: string } | null = null;
  for (let attempt = 1; attempt <= 2; attempt++) {
    const out = join(dir, `storm-${attempt}.json`);
    const run = await runCli(['bench', 'reconnect-storm-ci', '--spawn', '3', '--redis', redis.url, '--quiet', '--report', out], { timeoutMs: 60_000 });
    expect([0, 99, 3], run.stderr).toContain(run.code);
    last = { report: JSON.parse(readFileSync(out, 'utf8')) as BenchReport, code: run.code, stderr: run.stderr };
    if (last.report.thresholds.every((t) => t.ok)) break;
  }
  return last!;
}

describe('a scenario with faults', () => {
  it('is refused without instances the bench spawns, or with one alone (exit 2)', async () => {
    const viaUrl = await runCli(['bench', 'reconnect-storm-ci', '--url', 'ws://127.0.0.1:9']);
    expect(viaUrl.code).toBe(2);
    expect(viaUrl.stderr).toMatch(/scenario reconnect-storm-ci kills or drains instances \(faults\): it needs instances the bench starts itself, --spawn N --redis URL/);
    const alone = await runCli(['bench', 'reconnect-storm-ci', '--spawn', '1']);
    expect(alone.code).toBe(2);
    expect(alone.stderr).toMatch(/--spawn 1 leaves the displaced peers nowhere to go/);
  });
});

describe.skipIf(!hasRedis)('the reconnect storm (CI size)', () => {
  it('kills one instance and drains another; every displaced peer comes back, nothing taken or listed twice', async () => {
    const { report: r, code, stderr } = await storm();
    // Exit 3 means the generator was short of CPU on a busy host: the storm is judged all the same.
    expect([0, 3], stderr).toContain(code);
    expect(r.thresholds.filter((t) => !t.ok)).toEqual([]);
    expect(reportProblems(JSON.parse(JSON.stringify(r)))).toEqual([]);
    const [kill, drain] = r.storms!;
    expect(r.storms).toHaveLength(2);
    expect(kill!.fault).toMatchObject({ action: 'kill', instance: 0, at_s: 3 });
    expect(drain!.fault).toMatchObject({ action: 'drain', instance: 1, at_s: 9 });
    for (const s of [kill!, drain!]) {
      expect(s.displaced).toBeGreaterThan(50);
      expect(s.abandoned).toBeGreaterThan(0);
      expect(s.back).toBe(s.displaced - s.abandoned);
      expect(s.not_back).toBe(0);
      expect(s.failures.peer_id_taken).toBe(0);
      expect(s.listed_twice).toBe(0);
      expect(s.back_ms!.last).toBeLessThan(5000);
      expect(s.fault.signal_late_ms).not.toBeNull();
      expect(s.fault.exited_after_ms).not.toBeNull();
      expect(s.discovery.rooms_watched).toBeGreaterThan(0);
      expect(s.discovery.lists).toBeGreaterThan(0);
      expect(s.relays.sent).toBeGreaterThan(0);
      // Every lost relay is told apart (the scenario's threshold holds none unexplained).
      const by = s.relays.lost_by_cause!;
      expect(by.refused + by.sender_closed + by.target_faulted + by.unexplained).toBe(s.relays.lost);
    }
    // A killed instance's peers stay listed until the reaper (--reap-after 3s here) removes them.
    expect(kill!.discovery.gone_ms!.max).toBeGreaterThan(1000);
    expect(kill!.discovery.gone_ms!.max).toBeLessThan(6000);
    const table = stripAnsi(renderReport(r));
    expect(table).toMatch(/storm 1 +│ kill of instance 0 at 3 s/);
    expect(table).toMatch(/storm 2 +│ drain of instance 1 at 9 s/);
  }, 150_000);
});

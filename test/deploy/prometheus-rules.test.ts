import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { promtool, requirePrometheus } from '../helpers/prometheus-process.js';

const MONITORING = fileURLToPath(new URL('../../deploy/monitoring/', import.meta.url));
const RULES = join(MONITORING, 'rules', 'sleap-signal.rules.yml');
const TESTS = join(MONITORING, 'tests');
const testFiles = () => readdirSync(TESTS).filter((f) => /\.ya?ml$/.test(f)).map((f) => join(TESTS, f));

/** For each `alertname:` of a promtool test file, whether its `exp_alerts` expects alerts. */
function alertCases(text: string): { alert: string; fires: boolean }[] {
  const cases: { alert: string; fires: boolean }[] = [];
  const lines = text.split('\n');
  lines.forEach((line, i) => {
    const name = /^\s*(?:-\s+)?alertname:\s*(\S+)/.exec(line)?.[1];
    if (name === undefined) return;
    const expected = lines.slice(i + 1).find((l) => /^\s*exp_alerts:/.test(l));
    cases.push({ alert: name, fires: expected !== undefined && !/exp_alerts:\s*\[\]/.test(expected) });
  });
  return cases;
}

describe.runIf(requirePrometheus())('Prometheus rules (promtool)', () => {
  it('passes promtool check rules', () => {
    const run = promtool(['check', 'rules', RULES]);
    expect(run.output).toMatch(/SUCCESS: \d+ rules found/);
    expect(run.status, run.output).toBe(0);
  });

  it('passes every promtool rule test', () => {
    expect(testFiles().length).toBeGreaterThan(0);
    const run = promtool(['test', 'rules', ...testFiles()], TESTS);
    expect(run.status, run.output).toBe(0);
  });

  it('has a firing and a quiet test case for every alert', () => {
    const alerts = [...readFileSync(RULES, 'utf8').matchAll(/^\s*- alert:\s*(\S+)/gm)].map((m) => m[1]!);
    expect(alerts.length).toBeGreaterThanOrEqual(9);
    const cases = testFiles().flatMap((f) => alertCases(readFileSync(f, 'utf8')));
    const missing = alerts.flatMap((alert) => [
      ...(cases.some((c) => c.alert === alert && c.fires) ? [] : [`${alert}: no firing case`]),
      ...(cases.some((c) => c.alert === alert && !c.fires) ? [] : [`${alert}: no quiet case`]),
    ]);
    expect(missing).toEqual([]);
  });

  it('ships a Prometheus configuration that promtool accepts, with the rules', () => {
    const run = promtool(['check', 'config', join(MONITORING, 'prometheus.example.yml')]);
    expect(run.status, run.output).toBe(0);
    expect(run.output).toContain('sleap-signal.rules.yml');
  });
});

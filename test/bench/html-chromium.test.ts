import { execFile } from 'node:child_process';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { renderHtml } from '../../src/bench/html-report.js';
import { fakeReport, relays } from './bench-helpers.js';

const run = promisify(execFile);
const CHROMIUM = ['chromium', 'chromium-browser'].find((c) => spawnSync(c, ['--version'], { stdio: 'ignore' }).status === 0);

function requireChromium(): boolean {
  if (CHROMIUM) return true;
  if (process.env.CI) throw new Error('chromium is not installed, and CI is set: the HTML report test must run (apt-get install chromium)');
  console.warn('\n!!! chromium not found: SKIPPING the HTML-report rendering test (apt-get install chromium) !!!\n');
  return false;
}

/** Flags for a headless Chromium that reaches for nothing on the network. */
const FLAGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--hide-scrollbars'];

describe.runIf(requireChromium())('the HTML report in headless Chromium', () => {
  const dir = mkdtempSync(join(tmpdir(), 'sleap-html-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('renders with its five plots drawn', async () => {
    const report = fakeReport(
      (r) => {
        relays(r, 2000, 1_500);
        r.record('connect', 900);
        r.record('register', 1_200);
        r.record('relay_cross', 3_000);
      },
      { thresholds: ['relay.p99<20ms'] },
    );
    const page = join(dir, 'report.html');
    writeFileSync(page, renderHtml(report));
    const common = [...FLAGS, `--user-data-dir=${join(dir, 'profile')}`];
    const { stdout: dom } = await run(CHROMIUM!, [...common, '--dump-dom', `file://${page}`], { timeout: 60_000, maxBuffer: 32 * 1024 * 1024 });
    // What the browser built from the page: five plots, each with drawn paths or shapes.
    const svgs = dom.split('<svg').slice(1);
    expect(svgs).toHaveLength(5);
    for (const svg of svgs) expect(svg).toMatch(/<(path|polyline|rect|circle)[^>]+/);
    expect(dom).toContain('Latency by percentile');
    const shot = join(dir, 'report.png');
    await run(CHROMIUM!, [...common, `--screenshot=${shot}`, '--window-size=1200,2400', `file://${page}`], { timeout: 60_000 });
    const png = readFileSync(shot);
    expect(png.subarray(1, 4).toString()).toBe('PNG');
    // A blank page compresses to a few kilobytes; plots and tables do not.
    expect(statSync(shot).size).toBeGreaterThan(30_000);
  }, 120_000);
});

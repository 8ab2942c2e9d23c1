import { describe, expect, it } from 'vitest';
import { compareReports, renderComparison } from '../../src/bench/compare.js';
import { countTimeWait, renderDoctor, runDoctor } from '../../src/bench/doctor.js';
import { renderHtml } from '../../src/bench/html-report.js';
import { reportProblems } from '../../src/bench/report-json.js';
import { reportJsonSchema } from '../../src/bench/report-schema.js';
import { renderReport } from '../../src/bench/report-table.js';
import { stripAnsi } from '../cli/cli-helpers.js';
import { fakeReport, relays } from './bench-helpers.js';

const report = fakeReport(
  (r) => {
    relays(r, 1000, 2_000);
    r.record('connect', 900);
    r.record('register', 1_500);
    r.record('relay_cross', 4_000);
    r.counters.relaysSent += 3;
    r.error('close.1006', 2);
  },
  { thresholds: ['relay.p99<20ms', 'errors==0'] },
  ['ws://a:1', 'ws://b:2'],
);

describe('the JSON report', () => {
  it('validates against its schema, which is published as JSON Schema', () => {
    expect(reportProblems(JSON.parse(JSON.stringify(report)))).toEqual([]);
    expect(reportProblems({ ...report, version: 2 })[0]).toMatch(/\/version/);
    const { relays: _dropped, ...missing } = report;
    expect(reportProblems(missing).join('\n')).toMatch(/relays/);
    const schema = reportJsonSchema();
    expect(schema.$schema).toMatch(/2020-12/);
    expect((schema.properties as Record<string, unknown>).operations).toBeDefined();
  });

  it('carries the accounting and the verdict', () => {
    expect(report.relays).toMatchObject({ sent: 1003, received: 1000, lost: 3 });
    expect(report.errors).toEqual({ total: 2, by_class: { 'close.1006': 2 } });
    expect(report.thresholds.map((t) => t.ok)).toEqual([true, false]);
    expect(report.verdict.exit_code).toBe(99);
  });

  it('judges the generator by its event-loop delay in the open model only; by its CPU in both', () => {
    // The fake run's generator had an event-loop delay p99 of 3 ms and used 20% of a core.
    const stalled = { validity: { max_event_loop_p99: '1ms' } };
    expect(fakeReport(() => {}, stalled).generator.reasons.join()).toMatch(/event-loop delay p99 was 3 ms/);
    expect(fakeReport(() => {}, { ...stalled, traffic: { model: 'closed' } }).verdict.valid).toBe(true);
    const busy = { traffic: { model: 'closed' }, validity: { max_cpu: 0.1 } };
    expect(fakeReport(() => {}, busy).generator.reasons.join()).toMatch(/generator CPU was 20%/);
  });
});

describe('the table', () => {
  it('shows each operation with count, rate and percentiles, the accounting, errors and thresholds', () => {
    const text = stripAnsi(renderReport(report));
    expect(text).toMatch(/operation\s+│\s+count\s+│\s+rate\/s\s+│\s+p50\s+│\s+p90\s+│\s+p99\s+│\s+p99\.9\s+│\s+max/);
    expect(text).toMatch(/relay one-way\s+│\s+1,000\s+│\s+100\s+│\s+2\.00/);
    expect(text).toMatch(/relay one-way, cross-instance\s+│\s+1\s+│/);
    expect(text).toContain('1,003 sent = 1,000 received + 3 lost');
    expect(text).toMatch(/close\.1006\s+│\s+2/);
    expect(text).toContain('✓ relay.p99<20ms');
    expect(text).toContain('✗ errors==0');
    expect(text).toContain('FAILED: 1 threshold(s) not met');
  });
});

describe('the HTML page', () => {
  it('is one self-contained document with the plots a reader needs', () => {
    const html = renderHtml(report);
    expect(html.startsWith('<!doctype html>')).toBe(true);
    expect(html).not.toMatch(/<script|\bsrc=|href="http|@import|url\(/);
    expect((html.match(/<svg /g) ?? []).length).toBe(5);
    for (const caption of ['Latency by percentile', 'Relay latency over time', 'Throughput over time', 'Connections over time', 'Generator health']) {
      expect(html).toContain(caption);
    }
    expect(html).toContain('FAILED — 1 of 2 thresholds not met');
    expect(html).toContain('relay one-way, cross-instance');
    // Every path is well formed (numbers only, no NaN from empty data).
    expect(html).not.toMatch(/NaN|Infinity|undefined/);
  });

  it('copes with a run that measured nothing', () => {
    const empty = fakeReport();
    const html = renderHtml({ ...empty, timeline: [] });
    expect(html).toContain('No latencies were recorded.');
    expect(html).not.toMatch(/NaN|Infinity/);
  });
});

describe('compare', () => {
  it('gives B/A ratios per metric', () => {
    const slower = fakeReport((r) => relays(r, 1000, 4_000));
    const rows = compareReports(report, slower);
    const p50 = rows.find((r) => r.metric === 'relay p50')!;
    expect(p50.ratio).toBeCloseTo(2, 1);
    expect(p50.higherIsWorse).toBe(true);
    expect(rows.find((r) => r.metric === 'relays lost')).toMatchObject({ a: 3, b: 0, ratio: 0 });
    const text = stripAnsi(renderComparison(report, slower, 'a.json', 'b.json'));
    expect(text).toMatch(/relay p50\s+│\s+2\.00 ms\s+│\s+4\.00 ms\s+│\s+2\.00×/);
  });
});

describe('doctor', () => {
  const host: Record<string, string> = {
    '/proc/self/limits': 'Limit                     Soft Limit           Hard Limit           Units\nMax open files            1024                 4096                 files\n',
    '/proc/sys/fs/file-max': '9223372036854775807\n',
    '/proc/sys/fs/nr_open': '1048576\n',
    '/proc/sys/net/ipv4/ip_local_port_range': '32768\t60999\n',
    '/proc/sys/net/ipv4/tcp_tw_reuse': '0\n',
    '/proc/sys/net/core/somaxconn': '128\n',
    '/proc/sys/net/ipv4/tcp_max_syn_backlog': '256\n',
    '/proc/net/tcp': '  sl  local_address rem_address   st\n   0: 0100007F:1F90 00000000:0000 0A\n   1: 0100007F:9C40 0100007F:1F90 06\n   2: 0100007F:9C41 0100007F:1F90 06\n',
    '/proc/meminfo': 'MemAvailable:    8000000 kB\n',
  };
  const read = (p: string) => host[p] ?? null;

  it('counts TIME_WAIT sockets', () => {
    expect(countTimeWait(read)).toBe(2);
  });

  it('finds what a 30,000-connection remote run lacks, and prints the exact fixes', () => {
    const input = { peers: 30_000, targets: 1, loopback: false, read };
    const checks = runDoctor(input);
    const status = Object.fromEntries(checks.map((c) => [c.name, c.status]));
    expect(status['open files (ulimit -n)']).toBe('fail');
    expect(status['ephemeral ports (ip_local_port_range)']).toBe('fail');
    expect(status['reuse of TIME_WAIT ports (tcp_tw_reuse)']).toBe('warn');
    expect(status['accept backlog (somaxconn, tcp_max_syn_backlog)']).toBe('warn');
    const text = stripAnsi(renderDoctor(checks, input));
    expect(text).toContain("echo '* soft nofile 65536' | sudo tee -a /etc/security/limits.conf");
    expect(text).toContain('sudo sysctl -w net.ipv4.ip_local_port_range="1024 65535"');
    expect(text).toContain('sudo sysctl -w net.ipv4.tcp_tw_reuse=1');
    expect(text).toContain('sudo sysctl -w net.core.somaxconn=4096');
    expect(text).toContain('/etc/sysctl.d/90-sleap-bench.conf');
  });

  it('passes a small loopback run on the same host, and says so', () => {
    const roomy = (p: string) => (p === '/proc/self/limits' ? 'Max open files            65536                65536                files\n' : read(p));
    const checks = runDoctor({ peers: 500, targets: 1, loopback: true, read: roomy });
    expect(checks.find((c) => c.name === 'open files (ulimit -n)')?.status).toBe('ok');
    expect(checks.find((c) => c.name === 'ephemeral ports (ip_local_port_range)')?.status).toBe('ok');
    // A raisable soft limit gets the one-line fix.
    const tight = runDoctor({ peers: 2000, targets: 1, loopback: true, read });
    expect(tight.find((c) => c.name === 'open files (ulimit -n)')?.fix?.[0]).toMatch(/^ulimit -n 4096/);
  });
});

import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from './net.js';

function works(bin: string): boolean {
  return spawnSync(bin, ['--version'], { stdio: 'ignore' }).status === 0;
}

export const PROMETHEUS_AVAILABLE = works('prometheus') && works('promtool');

/**
 * Prometheus suites are skipped loudly where prometheus or promtool is missing, except in CI where
 * that is a failure (like requireRedis).
 */
export function requirePrometheus(): boolean {
  if (PROMETHEUS_AVAILABLE) return true;
  if (process.env.CI) throw new Error('prometheus/promtool are not installed, and CI is set: the monitoring suites must run (apt-get install prometheus)');
  console.warn('\n!!! prometheus or promtool not found: SKIPPING the monitoring test suites (apt-get install prometheus) !!!\n');
  return false;
}

/** Runs promtool; resolves with its exit code and output (stdout and stderr together). */
export function promtool(args: readonly string[], cwd?: string): { status: number | null; output: string } {
  const run = spawnSync('promtool', args, { cwd, encoding: 'utf8', timeout: 30_000 });
  return { status: run.status, output: `${run.stdout ?? ''}${run.stderr ?? ''}` };
}

export interface ScrapeTarget {
  /** host:port */
  readonly address: string;
  readonly labels?: Record<string, string>;
}

export interface PrometheusOptions {
  readonly job: string;
  readonly targets: readonly ScrapeTarget[];
  readonly ruleFiles?: readonly string[];
  /** Scrape and rule evaluation interval (default 1s). */
  readonly interval?: string;
}

/** The result of an instant query: Prometheus' `data` of a vector, or the error it answered with. */
export type QueryResult =
  | { readonly ok: true; readonly series: { metric: Record<string, string>; value: [number, string] }[] }
  | { readonly ok: false; readonly error: string };

/**
 * A real Prometheus on a free loopback port, with its configuration and TSDB in a temp directory.
 * The configuration is JSON (valid YAML), so no YAML writer is needed.
 */
export class PrometheusProcess {
  readonly dir = mkdtempSync(join(tmpdir(), 'sleap-prometheus-'));
  port = 0;
  private child: ChildProcess | null = null;
  private output = '';

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  async start(options: PrometheusOptions): Promise<this> {
    const interval = options.interval ?? '1s';
    const config = {
      global: { scrape_interval: interval, scrape_timeout: interval, evaluation_interval: interval },
      rule_files: options.ruleFiles ?? [],
      scrape_configs: [
        {
          job_name: options.job,
          metrics_path: '/metrics',
          static_configs: options.targets.map((t) => ({ targets: [t.address], labels: t.labels ?? {} })),
        },
      ],
    };
    const configFile = join(this.dir, 'prometheus.yml');
    writeFileSync(configFile, JSON.stringify(config, null, 2));
    const check = promtool(['check', 'config', configFile]);
    if (check.status !== 0) throw new Error(`promtool check config failed:\n${check.output}`);
    this.port = await freePort();
    const child = spawn(
      'prometheus',
      [
        `--config.file=${configFile}`,
        `--storage.tsdb.path=${join(this.dir, 'data')}`,
        `--web.listen-address=127.0.0.1:${this.port}`,
        '--log.level=warn',
      ],
      { cwd: this.dir, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    this.child = child;
    child.stdout!.on('data', (d: Buffer) => (this.output += d.toString()));
    child.stderr!.on('data', (d: Buffer) => (this.output += d.toString()));
    const deadline = Date.now() + 20_000;
    while (Date.now() < deadline) {
      if (child.exitCode !== null) throw new Error(`prometheus exited (${child.exitCode}):\n${this.output}`);
      const ready = await fetch(`${this.url}/-/ready`).then((r) => r.ok, () => false);
      if (ready) return this;
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error(`prometheus did not become ready on ${this.port}:\n${this.output}`);
  }

  /** GET /api/v1/<path>; throws unless Prometheus answers with status "success". */
  async api<T>(path: string, params: Record<string, string> = {}): Promise<T> {
    const body = await this.get(path, params);
    if (body.status !== 'success') throw new Error(`prometheus ${path}: ${body.errorType}: ${body.error}`);
    return body.data as T;
  }

  /** An instant query; a parse or evaluation error is returned, not thrown. */
  async query(expr: string): Promise<QueryResult> {
    const body = await this.get('query', { query: expr });
    if (body.status !== 'success') return { ok: false, error: `${body.errorType}: ${body.error}` };
    const data = body.data as { resultType: string; result: unknown };
    if (data.resultType === 'scalar') return { ok: true, series: [{ metric: {}, value: data.result as [number, string] }] };
    return { ok: true, series: data.result as { metric: Record<string, string>; value: [number, string] }[] };
  }

  private async get(path: string, params: Record<string, string>): Promise<{ status: string; data?: unknown; errorType?: string; error?: string }> {
    const url = `${this.url}/api/v1/${path}?${new URLSearchParams(params).toString()}`;
    const response = await fetch(url);
    return (await response.json()) as { status: string; data?: unknown; errorType?: string; error?: string };
  }

  /** What the process printed (for failure messages). */
  get log(): string {
    return this.output;
  }

  async stop(): Promise<void> {
    const child = this.child;
    this.child = null;
    if (child && child.exitCode === null) {
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGKILL');
      await exited;
    }
    rmSync(this.dir, { recursive: true, force: true });
  }
}

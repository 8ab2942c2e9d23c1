import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { connect as tcpConnect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort } from './redis-process.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
/** The committed example configuration the load balancer tests run. */
export const NGINX_EXAMPLE = join(ROOT, 'deploy', 'nginx.conf');

/** The nginx binary: on PATH, or where Debian and source builds put it (/usr/sbin is not always on PATH). */
function findNginx(): string | null {
  for (const candidate of ['nginx', '/usr/sbin/nginx', '/usr/local/sbin/nginx', '/usr/local/nginx/sbin/nginx']) {
    if (spawnSync(candidate, ['-v'], { stdio: 'ignore' }).status === 0) return candidate;
  }
  return null;
}

export const NGINX_BIN = findNginx();
export const NGINX_AVAILABLE = NGINX_BIN !== null;

/**
 * Load balancer suites are skipped loudly where nginx is missing, except in CI where a missing
 * nginx is a failure (like requireRedis).
 */
export function requireNginx(): boolean {
  if (NGINX_AVAILABLE) return true;
  if (process.env.CI) throw new Error('nginx is not installed, and CI is set: the load balancer suite must run (apt-get install nginx)');
  console.warn('\n!!! nginx not found: SKIPPING the load balancer test suite (install nginx to run it) !!!\n');
  return false;
}

/** `-e` (the error log used before the configuration is read) exists since nginx 1.19.5. */
function supportsErrorLogFlag(bin: string): boolean {
  const out = spawnSync(bin, ['-v'], { encoding: 'utf8' });
  const m = /nginx\/(\d+)\.(\d+)\.(\d+)/.exec(`${out.stderr}${out.stdout}`);
  if (!m) return false;
  const [major, minor, patch] = [Number(m[1]), Number(m[2]), Number(m[3])];
  return major > 1 || (major === 1 && (minor > 19 || (minor === 19 && patch >= 5)));
}

/** `text.replace(pattern, ...)` that first checks the pattern (global) matches exactly `count` times. */
function replaceExactly(text: string, pattern: RegExp, count: number, what: string, replace: (groups: string[], i: number) => string): string {
  const found = [...text.matchAll(pattern)].length;
  if (found !== count) {
    throw new Error(`deploy/nginx.conf: expected ${count} ${what}, found ${found}; the test renders that file, keep its shape (see its header)`);
  }
  let i = 0;
  // The callback gets (match, ...groups, offset, whole string).
  return text.replace(pattern, (...args: unknown[]) => replace(args.slice(1, -2).map((g) => (g as string | undefined) ?? ''), i++));
}

/**
 * Renders the committed example for a test: its upstream `server` addresses become `upstreams`
 * (their parameters kept), its `listen` becomes `127.0.0.1:<port>`, its access log goes to
 * `accessLog`. Everything else is the file as committed.
 */
export function renderExample(source: string, options: { port: number; upstreams: readonly string[]; accessLog: string }): string {
  const upstream = /(upstream\s+sleap_signal\s*\{)([\s\S]*?\n\})/;
  const block = upstream.exec(source);
  if (!block) throw new Error('deploy/nginx.conf: no `upstream sleap_signal { ... }` block');
  const servers = replaceExactly(block[2]!, /^([ \t]*)server\s+\S+([^;\n]*);/gm, options.upstreams.length, 'upstream server lines', (g, i) => `${g[0]}server ${options.upstreams[i]}${g[1]};`);
  let text = source.replace(upstream, (_all, head: string) => `${head}${servers}`);
  text = replaceExactly(text, /^([ \t]*)listen\s+[^;\n]+;/gm, 1, '`listen` lines', (g) => `${g[0]}listen 127.0.0.1:${options.port};`);
  text = replaceExactly(text, /^([ \t]*)access_log\s+\/\S+([^;\n]*);/gm, 1, '`access_log <path>` lines', (g) => `${g[0]}access_log ${options.accessLog}${g[1]};`);
  return text;
}

/**
 * A real nginx in front of `upstreams`, running deploy/nginx.conf (rendered by renderExample) on
 * a free loopback port. Everything it writes (pid, logs, temp directories) stays in its own temp
 * directory, started with `-p <dir> -c <dir>/nginx.conf -g 'daemon off; pid ...;'`, so it touches
 * neither /etc nor /var, and runs as root (CI) or as an ordinary user alike.
 */
export class NginxProcess {
  readonly dir = mkdtempSync(join(tmpdir(), 'sleap-nginx-'));
  port = 0;
  private child: ChildProcess | null = null;
  private output = '';

  constructor(private readonly upstreams: readonly string[]) {
    // When run as root, nginx's workers run as `nobody`: they must be able to enter the directory.
    chmodSync(this.dir, 0o755);
  }

  get url(): string {
    return `ws://127.0.0.1:${this.port}`;
  }

  get httpUrl(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  get errorLogPath(): string {
    return join(this.dir, 'error.log');
  }

  get accessLogPath(): string {
    return join(this.dir, 'access.log');
  }

  /** The generated top-level configuration: process settings, then the rendered example inside http {}. */
  private writeConfig(): string {
    const site = join(this.dir, 'sleap-signal.conf');
    writeFileSync(
      site,
      renderExample(readFileSync(NGINX_EXAMPLE, 'utf8'), { port: this.port, upstreams: this.upstreams, accessLog: this.accessLogPath }),
    );
    const conf = join(this.dir, 'nginx.conf');
    const d = this.dir;
    writeFileSync(
      conf,
      [
        '# Generated by test/helpers/nginx-process.ts: process settings for a throwaway nginx,',
        '# then deploy/nginx.conf (rendered) inside http {}.',
        'worker_processes 1;',
        `error_log ${d}/error.log warn;`,
        'events { worker_connections 1024; }',
        'http {',
        `    client_body_temp_path ${d}/client_body;`,
        `    proxy_temp_path ${d}/proxy;`,
        `    fastcgi_temp_path ${d}/fastcgi;`,
        `    uwsgi_temp_path ${d}/uwsgi;`,
        `    scgi_temp_path ${d}/scgi;`,
        `    access_log ${d}/default-access.log;`,
        `    include ${site};`,
        '}',
        '',
      ].join('\n'),
    );
    return conf;
  }

  async start(): Promise<this> {
    if (NGINX_BIN === null) throw new Error('nginx is not installed');
    // A free port can be taken between the probe and nginx's bind: try a few.
    for (let attempt = 1; ; attempt++) {
      this.port = await freePort();
      try {
        await this.launch();
        return this;
      } catch (err) {
        const inUse = /Address already in use/.test(this.output) || /Address already in use/.test(this.errorLog());
        if (!inUse || attempt >= 3) throw err;
      }
    }
  }

  private async launch(): Promise<void> {
    const conf = this.writeConfig();
    const args = ['-p', `${this.dir}/`, '-c', conf, '-g', `daemon off; pid ${this.dir}/nginx.pid;`];
    if (supportsErrorLogFlag(NGINX_BIN!)) args.push('-e', this.errorLogPath);
    this.output = '';
    // Its own process group, so that stop() can also reach the workers if the master hangs.
    const child = spawn(NGINX_BIN!, args, { stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    this.child = child;
    child.stdout!.on('data', (d: Buffer) => (this.output += d.toString()));
    child.stderr!.on('data', (d: Buffer) => (this.output += d.toString()));
    const deadline = Date.now() + 10_000;
    while (Date.now() < deadline) {
      if (child.exitCode !== null || child.signalCode !== null) {
        this.child = null;
        throw new Error(`nginx exited (${child.exitCode ?? child.signalCode}): ${this.output}\n${this.errorLog()}`);
      }
      // The pid file is written once the listening sockets are bound (so the port is ours).
      if (existsSync(join(this.dir, 'nginx.pid')) && (await canConnect(this.port))) return;
      await new Promise((r) => setTimeout(r, 50));
    }
    await this.stop(false);
    throw new Error(`nginx did not listen on ${this.port} within 10 s: ${this.output}\n${this.errorLog()}`);
  }

  /** nginx's error log so far (upstream failures are logged there at `warn`). */
  errorLog(): string {
    try {
      return readFileSync(this.errorLogPath, 'utf8');
    } catch {
      return '';
    }
  }

  /** The access log of the example's server block (format `sleap_signal`, with upstream_addr). */
  accessLog(): string {
    try {
      return readFileSync(this.accessLogPath, 'utf8');
    } catch {
      return '';
    }
  }

  /** Fast shutdown (SIGTERM closes proxied WebSockets at once); SIGKILL to the group if it hangs. */
  async stop(removeDir = true): Promise<void> {
    const child = this.child;
    this.child = null;
    if (child && child.exitCode === null && child.signalCode === null) {
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      const timer = setTimeout(() => {
        try {
          process.kill(-child.pid!, 'SIGKILL');
        } catch {
          // already gone
        }
      }, 5000);
      await exited;
      clearTimeout(timer);
    }
    if (removeDir && existsSync(this.dir)) rmSync(this.dir, { recursive: true, force: true });
  }
}

function canConnect(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = tcpConnect({ host: '127.0.0.1', port });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

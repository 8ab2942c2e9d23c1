import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, rmSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import WebSocket from 'ws';

/**
 * Helpers for the CLI tests: they run the BUILT executable (bin/sleap-signal.js → dist/) as a
 * child process, exactly as an operator would, and talk to it over real sockets.
 */

export const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const BIN = join(ROOT, 'bin', 'sleap-signal.js');
const MAIN_JS = join(ROOT, 'dist', 'cli', 'main.js');

/** Every serve option, its env var, and the default `serve --help` must show (none: no default). */
export const SERVE_OPTIONS: readonly { flag: string; env: string | null; defaultShown: string | null }[] = [
  { flag: '--port', env: 'PORT', defaultShown: '8080' },
  { flag: '--host', env: 'HOST', defaultShown: '"0.0.0.0"' },
  { flag: '--redis', env: 'REDIS_URL', defaultShown: null },
  { flag: '--redis-cluster', env: 'REDIS_CLUSTER', defaultShown: null },
  { flag: '--prefix', env: 'REDIS_PREFIX', defaultShown: '"sleap:"' },
  { flag: '--room-ttl', env: 'ROOM_TTL', defaultShown: '2h' },
  { flag: '--reap-after', env: 'REAP_AFTER', defaultShown: '15s' },
  { flag: '--compat', env: 'SLEAP_SIGNAL_COMPAT', defaultShown: '"none"' },
  { flag: '--max-payload', env: 'MAX_PAYLOAD', defaultShown: '1MiB' },
  { flag: '--max-connections', env: 'MAX_CONNECTIONS', defaultShown: '50000' },
  { flag: '--max-peers-per-room', env: 'MAX_PEERS_PER_ROOM', defaultShown: '1000' },
  { flag: '--rate-limit', env: 'RATE_LIMIT', defaultShown: '100:200' },
  { flag: '--byte-rate-limit', env: 'BYTE_RATE_LIMIT', defaultShown: '1MiB:2MiB' },
  { flag: '--unregistered-max-frame', env: 'UNREGISTERED_MAX_FRAME', defaultShown: '64KiB' },
  { flag: '--heartbeat-interval', env: 'HEARTBEAT_INTERVAL', defaultShown: '30s' },
  { flag: '--send-buffer-limit', env: 'SEND_BUFFER_LIMIT', defaultShown: '4MiB' },
  { flag: '--drain-timeout', env: 'DRAIN_TIMEOUT', defaultShown: '10s' },
  { flag: '--operator-token', env: 'OPERATOR_TOKEN', defaultShown: null },
  { flag: '--auth', env: 'AUTH', defaultShown: '"none"' },
  { flag: '--jwks-url', env: 'JWKS_URL', defaultShown: null },
  { flag: '--jwt-key-file', env: 'JWT_KEY_FILE', defaultShown: null },
  { flag: '--jwt-issuer', env: 'JWT_ISSUER', defaultShown: null },
  { flag: '--jwt-audience', env: 'JWT_AUDIENCE', defaultShown: null },
  { flag: '--jwt-clock-skew', env: 'JWT_CLOCK_SKEW', defaultShown: '30s' },
  { flag: '--cognito-region', env: 'COGNITO_REGION', defaultShown: null },
  { flag: '--cognito-user-pool-id', env: 'COGNITO_USER_POOL_ID', defaultShown: null },
  { flag: '--cognito-client-id', env: 'COGNITO_CLIENT_ID', defaultShown: null },
  { flag: '--rooms', env: 'ROOMS', defaultShown: '"open"' },
  { flag: '--room-expires', env: 'ROOM_EXPIRES', defaultShown: '24h' },
  { flag: '--allowed-origins', env: 'ALLOWED_ORIGINS', defaultShown: null },
  { flag: '--ice-servers', env: 'ICE_SERVERS', defaultShown: null },
  { flag: '--turn-secret', env: 'TURN_SECRET', defaultShown: null },
  { flag: '--turn-urls', env: 'TURN_URLS', defaultShown: null },
  { flag: '--turn-ttl', env: 'TURN_TTL', defaultShown: '24h' },
  { flag: '--max-connections-per-ip', env: 'MAX_CONNECTIONS_PER_IP', defaultShown: '0' },
  { flag: '--trust-proxy', env: 'TRUST_PROXY', defaultShown: null },
  { flag: '--handshake-timeout', env: 'HANDSHAKE_TIMEOUT', defaultShown: '10s' },
  { flag: '--listen-backlog', env: 'LISTEN_BACKLOG', defaultShown: '4096' },
  { flag: '--metrics-token', env: 'METRICS_TOKEN', defaultShown: null },
  { flag: '--admin-port', env: 'ADMIN_PORT', defaultShown: null },
  { flag: '--log-level', env: 'LOG_LEVEL', defaultShown: '"info"' },
  { flag: '--log-format', env: 'LOG_FORMAT', defaultShown: '"json"' },
  { flag: '--config', env: 'CONFIG_FILE', defaultShown: null },
  { flag: '--print-config', env: null, defaultShown: null },
];

/** Env vars the CLI reads; removed from the children's environment so the host cannot leak config in. */
const CLI_ENV_VARS = [...SERVE_OPTIONS.flatMap((o) => (o.env === null ? [] : [o.env, `SLEAP_SIGNAL_${o.env}`])), 'SMOKE_URL'];

/**
 * Builds dist/ once if it is missing (`npm test` builds before running vitest, so normally this
 * does nothing). Several test files may call it at once: a lock directory lets one of them build.
 */
export function ensureBuilt(): void {
  if (existsSync(MAIN_JS)) return;
  const lock = join(ROOT, '.vitest-tmp', 'cli-build.lock');
  mkdirSync(dirname(lock), { recursive: true });
  const deadline = Date.now() + 120_000;
  for (;;) {
    if (existsSync(MAIN_JS)) return;
    try {
      mkdirSync(lock);
    } catch {
      // Someone else is building; a lock older than two minutes is left over from a crash.
      try {
        if (Date.now() - statSync(lock).mtimeMs > 120_000) rmSync(lock, { recursive: true, force: true });
      } catch {}
      if (Date.now() > deadline) throw new Error('timed out waiting for another test file to build dist/');
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 250);
      continue;
    }
    try {
      if (!existsSync(MAIN_JS)) {
        const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
        const run = spawnSync(npm, ['run', 'build'], { cwd: ROOT, encoding: 'utf8' });
        if (run.status !== 0) throw new Error(`npm run build failed:\n${run.stdout}\n${run.stderr}`);
      }
      return;
    } finally {
      rmSync(lock, { recursive: true, force: true });
    }
  }
}

/** The test process's environment without any sleap-signal config, colours off, plus `extra`. */
export function cliEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env };
  for (const name of CLI_ENV_VARS) delete env[name];
  delete env.NO_COLOR;
  env.FORCE_COLOR = '0';
  return { ...env, ...extra };
}

const ANSI = /\u001b\[[0-9;]*m/g;
export function stripAnsi(text: string): string {
  return text.replace(ANSI, '');
}

/** Collapses runs of whitespace (help text is wrapped at 80 columns). */
export function squash(text: string): string {
  return text.replace(/\s+/g, ' ').trim();
}

/** Splits commander help into entries keyed by their long flag (or command name), whitespace collapsed. */
export function helpEntries(help: string, section: 'Options' | 'Commands'): Map<string, string> {
  const body = help.split(`${section}:\n`)[1]?.split(/\n\n|\n[A-Z][a-z]+:\n/)[0] ?? '';
  const entries = new Map<string, string>();
  let key: string | null = null;
  for (const line of body.split('\n')) {
    const head = /^ {2}(?:-\w, )?(--[\w-]+|[a-z][\w-]*)/.exec(line);
    if (head) {
      key = head[1]!;
      entries.set(key, squash(line));
    } else if (key !== null && line.trim() !== '') {
      entries.set(key, `${entries.get(key)!} ${squash(line)}`);
    }
  }
  return entries;
}

const children = new Set<ChildProcess>();

/** Kills every child process a test started and that is still running. */
export async function killAll(): Promise<void> {
  const running = [...children];
  children.clear();
  await Promise.all(
    running.map(
      (child) =>
        new Promise<void>((resolve) => {
          if (child.exitCode !== null || child.signalCode !== null) return resolve();
          child.once('exit', () => resolve());
          child.kill('SIGKILL');
        }),
    ),
  );
}

export interface CliResult {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stdout: string;
  readonly stderr: string;
  readonly stdoutBytes: Buffer;
  /** Wall time from spawn to exit, in ms. */
  readonly ms: number;
}

/** Runs `sleap-signal ...args` to completion (killed after `timeoutMs`). */
export function runCli(
  args: readonly string[],
  options: { env?: Record<string, string>; timeoutMs?: number } = {},
): Promise<CliResult> {
  const started = performance.now();
  const child = spawn(process.execPath, [BIN, ...args], { cwd: ROOT, env: cliEnv(options.env), stdio: ['ignore', 'pipe', 'pipe'] });
  children.add(child);
  const out: Buffer[] = [];
  const err: Buffer[] = [];
  child.stdout!.on('data', (d: Buffer) => out.push(d));
  child.stderr!.on('data', (d: Buffer) => err.push(d));
  const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 15_000);
  return new Promise((resolve, reject) => {
    child.once('error', reject);
    child.once('close', (code, signal) => {
      clearTimeout(timer);
      children.delete(child);
      const stdoutBytes = Buffer.concat(out);
      resolve({
        code,
        signal,
        stdout: stdoutBytes.toString('utf8'),
        stderr: Buffer.concat(err).toString('utf8'),
        stdoutBytes,
        ms: performance.now() - started,
      });
    });
  });
}

export type LogLine = Record<string, unknown> & { level: number; msg: string; event?: string };

export interface ServeProcess {
  readonly child: ChildProcess;
  readonly port: number;
  /** ws://127.0.0.1:port */
  readonly url: string;
  /** http://127.0.0.1:port */
  readonly http: string;
  /** Every stdout line so far, parsed (a line that is not JSON fails the test that reads it). */
  readonly lines: string[];
  readonly stderr: () => string;
  /** Resolves with the first log line (past or future) matching `match`. */
  waitForLog(match: (line: LogLine) => boolean, timeoutMs?: number): Promise<LogLine>;
  /** Resolves when the process has exited. */
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/**
 * Starts `sleap-signal serve ...args` and resolves once its JSON "listening" line is out, with the
 * port it reports (so `--port 0` works). Rejects if the process exits first.
 */
export function startServe(args: readonly string[], options: { env?: Record<string, string>; timeoutMs?: number } = {}): Promise<ServeProcess> {
  const child = spawn(process.execPath, [BIN, 'serve', ...args], { cwd: ROOT, env: cliEnv(options.env), stdio: ['ignore', 'pipe', 'pipe'] });
  children.add(child);
  const lines: string[] = [];
  let stderr = '';
  let partial = '';
  const watchers = new Set<() => void>();
  child.stdout!.setEncoding('utf8');
  child.stdout!.on('data', (chunk: string) => {
    partial += chunk;
    const parts = partial.split('\n');
    partial = parts.pop()!;
    lines.push(...parts.filter((l) => l.length > 0));
    watchers.forEach((w) => w());
  });
  child.stderr!.setEncoding('utf8');
  child.stderr!.on('data', (chunk: string) => (stderr += chunk));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.once('exit', (code, signal) => {
      children.delete(child);
      resolve({ code, signal });
      watchers.forEach((w) => w());
    });
  });

  const waitForLog = (match: (line: LogLine) => boolean, timeoutMs = 10_000): Promise<LogLine> =>
    new Promise((resolve, reject) => {
      const check = () => {
        for (const text of lines) {
          let line: LogLine;
          try {
            line = JSON.parse(text) as LogLine;
          } catch {
            continue;
          }
          if (match(line)) {
            done();
            return resolve(line);
          }
        }
        if (child.exitCode !== null || child.signalCode !== null) {
          done();
          reject(new Error(`serve exited (${child.exitCode ?? child.signalCode}) before the expected log line\nstdout:\n${lines.join('\n')}\nstderr:\n${stderr}`));
        }
      };
      const timer = setTimeout(() => {
        done();
        reject(new Error(`no matching log line within ${timeoutMs} ms\nstdout:\n${lines.join('\n')}\nstderr:\n${stderr}`));
      }, timeoutMs);
      const done = () => {
        clearTimeout(timer);
        watchers.delete(check);
      };
      watchers.add(check);
      check();
    });

  return waitForLog((l) => l.event === 'listening', options.timeoutMs ?? 15_000).then((listening) => {
    const port = listening.port as number;
    return {
      child,
      port,
      url: `ws://127.0.0.1:${port}`,
      http: `http://127.0.0.1:${port}`,
      lines,
      stderr: () => stderr,
      waitForLog,
      exited,
    };
  });
}

export { blackHole, freePort } from '../helpers/net.js';

export type Message = Record<string, unknown> & { type: string };

/** A bare WebSocket client (the `ws` package, not the project's own client). */
export class WsClient {
  readonly messages: Message[] = [];
  readonly closed: Promise<{ code: number; reason: string }>;
  private readonly waiters = new Set<() => void>();

  private constructor(readonly ws: WebSocket) {
    ws.on('message', (data) => {
      this.messages.push(JSON.parse(data.toString()) as Message);
      this.waiters.forEach((w) => w());
    });
    ws.on('error', () => {});
    this.closed = new Promise((resolve) => {
      ws.on('close', (code, reason) => {
        resolve({ code, reason: reason.toString() });
        this.waiters.forEach((w) => w());
      });
    });
  }

  /** Opens a connection; rejects with the HTTP status when the upgrade is refused. */
  static open(url: string, timeoutMs = 5000): Promise<WsClient> {
    return new Promise((resolve, reject) => {
      const ws = new WebSocket(url, { handshakeTimeout: timeoutMs, perMessageDeflate: false });
      const client = new WsClient(ws);
      openClients.add(client);
      ws.once('open', () => resolve(client));
      ws.once('unexpected-response', (_req, res) => {
        ws.terminate();
        reject(Object.assign(new Error(`upgrade refused: HTTP ${res.statusCode}`), { statusCode: res.statusCode }));
      });
      ws.once('error', reject);
    });
  }

  send(message: Record<string, unknown>): void {
    this.ws.send(JSON.stringify(message));
  }

  sendRaw(data: string): void {
    this.ws.send(data);
  }

  /** The first message of `type` (or one of `types`) not taken yet (removes it from `messages`). */
  next(type: string | readonly string[], timeoutMs = 5000): Promise<Message> {
    const types: readonly string[] = typeof type === 'string' ? [type] : type;
    return new Promise((resolve, reject) => {
      const check = () => {
        const i = this.messages.findIndex((m) => types.includes(m.type));
        if (i >= 0) {
          finish();
          resolve(this.messages.splice(i, 1)[0]!);
        } else if (this.ws.readyState === WebSocket.CLOSED) {
          finish();
          reject(new Error(`connection closed before a ${types.join('/')} message; got ${JSON.stringify(this.messages)}`));
        }
      };
      const timer = setTimeout(() => {
        finish();
        reject(new Error(`no ${types.join('/')} message within ${timeoutMs} ms; got ${JSON.stringify(this.messages)}`));
      }, timeoutMs);
      const finish = () => {
        clearTimeout(timer);
        this.waiters.delete(check);
      };
      this.waiters.add(check);
      check();
    });
  }

  /** Sends and waits for a reply of `type` or an `error`, whichever comes first. */
  async request(message: Record<string, unknown>, type: string, timeoutMs = 5000): Promise<Message> {
    this.send(message);
    return this.next([type, 'error'], timeoutMs);
  }

  terminate(): void {
    this.ws.terminate();
  }
}

const openClients = new Set<WsClient>();

/** Terminates every WebSocket a test opened. */
export function closeAllClients(): void {
  openClients.forEach((c) => c.terminate());
  openClients.clear();
}

/** Resolves with `promise`, or rejects after `ms` (for "must happen soon" checks). */
export function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout;
  return Promise.race([
    promise,
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`${what}: not within ${ms} ms`)), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}

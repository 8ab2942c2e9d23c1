import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { createServer } from 'node:net';
import { fileURLToPath } from 'node:url';
import type { Scenario } from './scenario/scenario.js';

/**
 * `--spawn N [--redis URL]`: N local `sleap-signal serve` processes on free loopback ports,
 * sharing that Redis (under a fresh key prefix) or, for N = 1, in memory. They run in their own
 * processes so the server and the generator do not share an event loop or a file-descriptor limit.
 */

const BIN = fileURLToPath(new URL('../../bin/sleap-signal.js', import.meta.url));
const MAIN_JS = fileURLToPath(new URL('../../dist/cli/main.js', import.meta.url));

export interface SpawnOptions {
  readonly instances: number;
  readonly redis?: string;
  /** Redis key prefix; a fresh one by default. */
  readonly prefix?: string;
  readonly scenario: Scenario;
  /** Extra arguments for every `serve`. */
  readonly extraArgs?: readonly string[];
  /** NODE_OPTIONS of every spawned `serve` (e.g. GC flags for an experiment). */
  readonly nodeOptions?: string;
  readonly startTimeoutMs?: number;
}

export interface SpawnedInstance {
  readonly url: string;
  readonly port: number;
  readonly child: ChildProcess;
  readonly output: () => string;
  /** Launch until it answered /health with 200. */
  readonly readyMs: number;
}

export class SpawnedServers {
  private constructor(
    readonly instances: SpawnedInstance[],
    readonly prefix: string | null,
    private readonly redis: string | undefined,
  ) {}

  get urls(): string[] {
    return this.instances.map((i) => i.url);
  }

  static async start(options: SpawnOptions): Promise<SpawnedServers> {
    if (!existsSync(MAIN_JS)) throw new Error('--spawn runs the built server (dist/): run `npm run build` first');
    const prefix = options.redis ? (options.prefix ?? `sleap-bench-${randomBytes(4).toString('hex')}:`) : null;
    const started: SpawnedInstance[] = [];
    const servers = new SpawnedServers(started, prefix, options.redis);
    try {
      for (let i = 0; i < options.instances; i++) started.push(await startOne(options, prefix));
    } catch (err) {
      await servers.stop();
      throw err;
    }
    return servers;
  }

  /** Stops every instance (SIGTERM, then SIGKILL), and removes this run's keys from Redis. */
  async stop(): Promise<void> {
    await Promise.all(this.instances.map((i) => stopOne(i.child)));
    if (this.redis && this.prefix) await deleteKeys(this.redis, this.prefix).catch(() => {});
  }
}

async function startOne(options: SpawnOptions, prefix: string | null): Promise<SpawnedInstance> {
  const s = options.scenario;
  const port = await freePort();
  const args = [
    BIN,
    'serve',
    '--host',
    '127.0.0.1',
    '--port',
    String(port),
    '--log-level',
    'warn',
    '--max-connections',
    String(Math.max(s.server.maxConnections, s.peers + 1000)),
    // Every simulated peer comes from this host's address: no per-address limit.
    '--max-connections-per-ip',
    '0',
    '--max-peers-per-room',
    String(s.server.maxPeersPerRoom),
    '--rate-limit',
    `${s.server.rateLimit.perSecond}:${s.server.rateLimit.burst}`,
    '--drain-timeout',
    '1s',
    ...(options.redis ? ['--redis', options.redis, '--prefix', prefix!, '--room-ttl', '10m'] : []),
    ...(options.extraArgs ?? []),
  ];
  const env = { ...process.env };
  if (options.nodeOptions !== undefined) env.NODE_OPTIONS = options.nodeOptions;
  for (const name of ['PORT', 'HOST', 'REDIS_URL', 'REDIS_PREFIX', 'LOG_LEVEL', 'RATE_LIMIT', 'MAX_CONNECTIONS', 'MAX_PEERS_PER_ROOM']) delete env[name];
  const launchedAt = performance.now();
  const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'], env });
  let output = '';
  const keep = (d: Buffer) => {
    output = (output + d.toString()).slice(-20_000);
  };
  child.stdout!.on('data', keep);
  child.stderr!.on('data', keep);
  const url = `ws://127.0.0.1:${port}`;
  const deadline = Date.now() + (options.startTimeoutMs ?? 15_000);
  for (;;) {
    if (child.exitCode !== null || child.signalCode !== null) {
      throw new Error(`spawned serve exited (${child.exitCode ?? child.signalCode}) before it was ready:\n${output.trim()}`);
    }
    try {
      const res = await fetch(`http://127.0.0.1:${port}/health`, { signal: AbortSignal.timeout(1000) });
      if (res.status === 200) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      await stopOne(child);
      throw new Error(`spawned serve on port ${port} was not healthy within ${options.startTimeoutMs ?? 15_000} ms:\n${output.trim()}`);
    }
    await new Promise((r) => setTimeout(r, 10));
  }
  return { url, port, child, output: () => output, readyMs: Math.round(performance.now() - launchedAt) };
}

async function stopOne(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
  await exited;
  clearTimeout(timer);
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const port = (srv.address() as { port: number }).port;
      srv.close(() => resolve(port));
    });
  });
}

async function deleteKeys(url: string, prefix: string): Promise<void> {
  const { Redis } = await import('ioredis');
  const client = new Redis(url, { maxRetriesPerRequest: 1, lazyConnect: true });
  client.on('error', () => {});
  try {
    await client.connect();
    let cursor = '0';
    do {
      const [next, keys] = await client.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000);
      cursor = next;
      if (keys.length > 0) await client.unlink(...keys);
    } while (cursor !== '0');
  } finally {
    client.disconnect();
  }
}

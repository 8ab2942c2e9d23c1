import { readFileSync } from 'node:fs';

/**
 * CPU the spawned servers (and their Redis) used while the bench measured: what bounds a run on
 * a machine where the generator, the servers and Redis share the cores. Linux only (/proc); the
 * figures are null elsewhere.
 */

/** Shares of one core during the measured window. */
export interface ServerCpu {
  /** Per spawned instance (all its threads); null where /proc could not be read. */
  readonly instances: (number | null)[];
  /** The Redis server (INFO cpu: main thread and its helpers); null without Redis. */
  readonly redis: number | null;
}

// USER_HZ: the unit of utime/stime in /proc/PID/stat; 100 on every Linux build Node supports.
const TICKS_PER_SECOND = 100;

/** CPU seconds (user + system) a process has used, all threads; null when unreadable. */
export function processCpuSeconds(pid: number): number | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command name (which may hold spaces or parentheses): state is field 3.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const utime = Number(fields[11]);
    const stime = Number(fields[12]);
    return Number.isFinite(utime) && Number.isFinite(stime) ? (utime + stime) / TICKS_PER_SECOND : null;
  } catch {
    return null;
  }
}

/** CPU seconds the Redis server has used (INFO cpu), read on a short-lived connection; null on failure. */
export async function redisCpuSeconds(url: string): Promise<{ seconds: number; atMs: number } | null> {
  const { Redis } = await import('ioredis');
  const client = new Redis(url, { maxRetriesPerRequest: 1, lazyConnect: true, enableOfflineQueue: false });
  client.on('error', () => {});
  try {
    await client.connect();
    const info = await client.info('cpu');
    const atMs = performance.now();
    const fields = new Map(info.split(/\r?\n/).map((line) => line.split(':') as [string, string]));
    const seconds = Number(fields.get('used_cpu_sys')) + Number(fields.get('used_cpu_user'));
    return Number.isFinite(seconds) ? { seconds, atMs } : null;
  } catch {
    return null;
  } finally {
    client.disconnect();
  }
}

interface Reading {
  readonly atMs: number;
  readonly instances: (number | null)[];
  readonly redis: Promise<{ seconds: number; atMs: number } | null>;
}

/** Reads the servers' CPU at the start and at the end of the measured window. */
export class ServerCpuProbe {
  private first: Reading | null = null;
  private last: Reading | null = null;

  constructor(
    private readonly pids: readonly number[],
    private readonly redisUrl: string | undefined,
  ) {}

  begin(): void {
    this.first = this.read();
  }

  end(): void {
    if (this.first !== null && this.last === null) this.last = this.read();
  }

  async result(): Promise<ServerCpu | null> {
    if (this.first === null || this.last === null) return null;
    const { first, last } = this;
    const seconds = Math.max(1e-3, (last.atMs - first.atMs) / 1000);
    const instances = this.pids.map((_, i) => {
      const a = first.instances[i];
      const b = last.instances[i];
      return a == null || b == null ? null : round((b - a) / seconds);
    });
    const [ra, rb] = await Promise.all([first.redis, last.redis]);
    const redis = ra && rb ? round((rb.seconds - ra.seconds) / Math.max(1e-3, (rb.atMs - ra.atMs) / 1000)) : null;
    return { instances, redis };
  }

  private read(): Reading {
    return {
      atMs: performance.now(),
      instances: this.pids.map(processCpuSeconds),
      redis: this.redisUrl ? redisCpuSeconds(this.redisUrl) : Promise.resolve(null),
    };
  }
}

/** "CPU 61% / 58% of one core per instance, Redis 17% (measured window)": for the table and the HTML page. */
export function describeServerCpu(cpu: ServerCpu): string {
  const instances = cpu.instances.map((c) => (c === null ? '?' : `${(c * 100).toFixed(0)}%`)).join(' / ');
  const redis = cpu.redis !== null ? `, Redis ${(cpu.redis * 100).toFixed(0)}%` : '';
  return `CPU ${instances} of one core per instance${redis} (measured window)`;
}

const round = (n: number) => Math.round(n * 1000) / 1000;

import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Cluster, Redis } from 'ioredis';
import { freePort } from './redis-process.js';

interface Node {
  port: number;
  child: ChildProcess | null;
}

/**
 * A real local Redis Cluster: three masters and three replicas of `redis-server
 * --cluster-enabled yes` on free ports, joined with `redis-cli --cluster create`.
 */
export class RedisClusterProcess {
  readonly nodes: Node[] = [];
  private readonly dir = mkdtempSync(join(tmpdir(), 'sleap-cluster-'));

  get seeds(): string[] {
    return this.nodes.map((n) => `127.0.0.1:${n.port}`);
  }

  async start(): Promise<this> {
    for (let i = 0; i < 6; i++) this.nodes.push({ port: await freePort(), child: null });
    for (const node of this.nodes) this.spawnNode(node);
    for (const node of this.nodes) await waitForPing(node.port);
    const create = spawnSync(
      'redis-cli',
      ['--cluster', 'create', ...this.seeds, '--cluster-replicas', '1', '--cluster-yes'],
      { encoding: 'utf8', timeout: 60_000 },
    );
    if (create.status !== 0) throw new Error(`redis-cli --cluster create failed: ${create.stdout}\n${create.stderr}`);
    await this.waitForState('ok', 30_000);
    await this.waitForClients(30_000);
    await this.waitForReplicas(30_000);
    return this;
  }

  /** Until every replica is in sync with its master: a replica that never synced cannot take over. */
  private async waitForReplicas(ms: number): Promise<void> {
    const end = Date.now() + ms;
    for (;;) {
      const infos = await Promise.all(
        this.nodes.map(async (n) => {
          const c = new Redis(n.port, '127.0.0.1', { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
          c.on('error', () => {});
          try {
            await c.connect();
            return await c.info('replication');
          } finally {
            c.disconnect();
          }
        }),
      );
      const replicas = infos.filter((i) => i.includes('role:slave'));
      if (replicas.length === 3 && replicas.every((i) => i.includes('master_link_status:up'))) return;
      if (Date.now() > end) throw new Error('replicas did not sync in time');
      await new Promise((r) => setTimeout(r, 200));
    }
  }

  /** Until a cluster client sees every slot served: a write to each master's slots succeeds. */
  private async waitForClients(ms: number): Promise<void> {
    const end = Date.now() + ms;
    for (;;) {
      const client = new Cluster(this.nodes.map((n) => ({ host: '127.0.0.1', port: n.port })), { lazyConnect: true, redisOptions: { connectTimeout: 1000 } });
      client.on('error', () => {});
      try {
        await client.connect();
        await Promise.all(['{a}', '{b}', '{c}', '{d}', '{e}'].map((k) => client.set(`probe${k}`, '1')));
        return;
      } catch (err) {
        if (Date.now() > end) throw err;
        await new Promise((r) => setTimeout(r, 200));
      } finally {
        client.disconnect();
      }
    }
  }

  private spawnNode(node: Node): void {
    node.child = spawn(
      'redis-server',
      [
        '--port', String(node.port), '--bind', '127.0.0.1', '--cluster-enabled', 'yes',
        '--cluster-config-file', join(this.dir, `nodes-${node.port}.conf`), '--cluster-node-timeout', '1000',
        '--save', '', '--appendonly', 'no', '--dir', this.dir, '--daemonize', 'no', '--loglevel', 'warning',
      ],
      { stdio: 'ignore' },
    );
  }

  /** Waits until every live node reports this cluster_state. */
  async waitForState(state: 'ok' | 'fail', ms: number): Promise<void> {
    const end = Date.now() + ms;
    for (;;) {
      const states = await Promise.all(this.nodes.filter((n) => n.child).map((n) => clusterState(n.port)));
      if (states.every((s) => s === state)) return;
      if (Date.now() > end) throw new Error(`cluster not ${state} within ${ms} ms: ${states.join(',')}`);
      await new Promise((r) => setTimeout(r, 200));
    }
  }

  /** Ports of the current masters. */
  async masters(): Promise<number[]> {
    const client = new Redis(this.nodes.find((n) => n.child)!.port, '127.0.0.1', { maxRetriesPerRequest: 1 });
    try {
      const text = (await client.call('CLUSTER', 'NODES')) as string;
      return text
        .split('\n')
        .filter((l) => l.includes('master') && !l.includes('fail'))
        .map((l) => Number(/:(\d+)@/.exec(l)![1]));
    } finally {
      client.disconnect();
    }
  }

  /**
   * Waits until every replica has applied all its master has written. Replication is asynchronous:
   * a master killed before that loses its last writes, which the instances write back on their own
   * only once the new topology has settled.
   */
  async waitForReplicationCaughtUp(ms = 5000): Promise<void> {
    const end = Date.now() + ms;
    const offsets = async (port: number) => {
      const client = new Redis(port, '127.0.0.1', { maxRetriesPerRequest: 1 });
      try {
        const info = (await client.info('replication')) as string;
        const field = (name: string) => Number(new RegExp(`^${name}:(\\d+)`, 'm').exec(info)?.[1] ?? NaN);
        return { role: /^role:(\w+)/m.exec(info)?.[1], own: field('master_repl_offset'), masterPort: field('master_port') };
      } finally {
        client.disconnect();
      }
    };
    for (;;) {
      const live = await Promise.all(this.nodes.filter((n) => n.child).map(async (n) => ({ port: n.port, ...(await offsets(n.port)) })));
      const behind = live.filter((n) => n.role === 'slave' && live.find((m) => m.port === n.masterPort)?.own !== n.own);
      if (behind.length === 0) return;
      if (Date.now() > end) throw new Error(`replicas behind after ${ms} ms: ${behind.map((n) => n.port).join(',')}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  /** kill -9 one node. */
  async killNode(port: number): Promise<void> {
    const node = this.nodes.find((n) => n.port === port)!;
    const child = node.child!;
    const exited = new Promise((r) => child.once('exit', r));
    child.kill('SIGKILL');
    await exited;
    node.child = null;
  }

  async stop(): Promise<void> {
    for (const node of this.nodes) if (node.child) await this.killNode(node.port);
    rmSync(this.dir, { recursive: true, force: true });
  }
}

async function waitForPing(port: number): Promise<void> {
  const end = Date.now() + 10_000;
  for (;;) {
    const probe = new Redis(port, '127.0.0.1', { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
    probe.on('error', () => {});
    try {
      await probe.connect();
      await probe.ping();
      probe.disconnect();
      return;
    } catch {
      probe.disconnect();
      if (Date.now() > end) throw new Error(`redis-server on ${port} did not start`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }
}

async function clusterState(port: number): Promise<string> {
  const client = new Redis(port, '127.0.0.1', { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
  client.on('error', () => {});
  try {
    await client.connect();
    const info = (await client.call('CLUSTER', 'INFO')) as string;
    return /cluster_state:(\w+)/.exec(info)?.[1] ?? 'unknown';
  } catch {
    return 'unreachable';
  } finally {
    client.disconnect();
  }
}

import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { blackHole, ensureBuilt, killAll, runCli, startServe } from '../cli/cli-helpers.js';
import { ClusterReader } from '../../src/admin/cluster-reader.js';
import { KeySpace } from '../../src/state/redis/key-space.js';
import { freshRoom, quiet, registeredPeer } from '../helpers/harness.js';
import { eventually } from '../helpers/cluster.js';
import { RedisProcess, requireRedis } from '../helpers/redis-process.js';
import { inspectCli, jsonOf, linesOf, rowOf } from './inspect-helpers.js';

/** Dead instances, unknown ids, an unreachable Redis and bad usage: what an operator sees, with which exit code. */
describe.runIf(requireRedis())('operator commands when things are wrong', () => {
  const redis = new RedisProcess();

  beforeAll(async () => {
    ensureBuilt();
    await redis.start();
  }, 120_000);
  afterEach(killAll);
  afterAll(async () => {
    await killAll();
    await redis.stop();
  });

  it('an instance killed with SIGKILL shows as dead until reaped; its peers can still be kicked', async () => {
    const prefix = `dead${process.pid}:`;
    const cli = inspectCli(() => redis.url, prefix);
    const base = ['--host', '127.0.0.1', '--port', '0', '--redis', redis.url, '--prefix', prefix];
    // The victim's heartbeat key lapses 2 s after its last beat; the survivor waits 60 s before
    // it would reap anyone, so the dead instance stays listed for the whole test.
    const [doomed, survivor] = await Promise.all([startServe([...base, '--reap-after', '2s']), startServe([...base, '--reap-after', '60s'])]);
    const room = freshRoom('dead');
    const orphan = await registeredPeer(doomed.url, { room_id: room, peer_id: 'orphan', role: 'worker' });
    const watcher = await registeredPeer(survivor.url, { room_id: room, peer_id: 'survivor', role: 'client', presence: true });
    const deadId = orphan.registered.server_id as string;
    const liveId = watcher.registered.server_id as string;

    doomed.child.kill('SIGKILL');
    await doomed.exited;
    // Wait in-process (cheaper than a CLI run per poll) until the heartbeat key has lapsed.
    const client = redis.client();
    try {
      const reader = new ClusterReader(client, new KeySpace(prefix));
      await eventually(
        () => reader.listServers(),
        (list) => list.some((s) => s.status === 'dead'),
        15_000,
      );
    } finally {
      client.disconnect();
    }
    const [serversDoc, table, roomDoc, roomTable, stats] = await Promise.all([
      cli(['servers', '--json']),
      cli(['servers']),
      cli(['room', room, '--json']),
      cli(['room', room]),
      cli(['stats', '--json']),
    ]);
    const servers = jsonOf(serversDoc);
    expect(servers).toMatchObject({ count: 2, live: 1, late: 0, dead: 1 });
    expect(servers.servers.map((s: { server_id: string; status: string }) => [s.server_id, s.status])).toEqual([
      [liveId, 'live'],
      [deadId, 'dead'],
    ]);
    expect(servers.servers[1]).toMatchObject({ host: null, port: null, connections: null, uptime_seconds: null, held_peers: 1 });
    expect(servers.servers[1].heartbeat_age_seconds).toBeGreaterThanOrEqual(1);

    const lines = linesOf(table);
    expect(rowOf(lines, deadId).slice(0, 5)).toEqual([deadId, 'dead', '-', '-', '1']);
    expect(rowOf(lines, liveId).slice(0, 2)).toEqual([liveId, 'live']);
    expect(lines.at(-1)).toMatch(/^2 instances: 1 live, 0 late, 1 dead \(dead instances stay listed/);
    expect(jsonOf(roomDoc).peer_list.map((p: { peer_id: string; server_status: string }) => [p.peer_id, p.server_status])).toEqual([
      ['orphan', 'dead'],
      ['survivor', 'live'],
    ]);
    expect(rowOf(linesOf(roomTable), 'orphan')[4]).toBe(`${deadId} (dead)`);
    expect(jsonOf(stats).instances).toEqual({ live: 1, late: 0, dead: 1, total: 2 });

    // Nobody listens on the dead instance's channel: the kick says so, and cleans up anyway.
    const kicked = jsonOf(await cli(['kick', 'orphan', '--json']));
    expect(kicked).toMatchObject({ deleted: 'orphan', server_id: deadId, instance_notified: false });
    expect(await watcher.client.next('peer_left')).toEqual({ type: 'peer_left', peer_id: 'orphan', reason: 'kicked' });
    const [roomAfter, serversAfter] = await Promise.all([cli(['room', room, '--json']), cli(['servers', '--json'])]);
    expect(jsonOf(roomAfter).peer_list.map((p: { peer_id: string }) => p.peer_id)).toEqual(['survivor']);
    const after = jsonOf(serversAfter);
    expect(after.servers.find((s: { server_id: string }) => s.server_id === deadId)).toMatchObject({ status: 'dead', held_peers: 0 });
    expect((await quiet(watcher.client, 200)).filter((m) => m.type === 'peer_left')).toEqual([]);
  });

  it('exit 1 and a clear message when Redis cannot be reached', async () => {
    const cases: [string[], string][] = [
      [['room', 'r', '--json', '--redis', 'redis://127.0.0.1:1'], 'redis://127.0.0.1:1'],
      // A watch fails the same way when its first frame cannot be read; a password is not printed.
      [['servers', '--watch', '--interval', '1', '--redis', 'redis://:hunter2@127.0.0.1:1'], 'redis://:***@127.0.0.1:1'],
    ];
    const results = await Promise.all(cases.map(([args]) => runCli(args, { timeoutMs: 20_000 })));
    results.forEach((r, i) => {
      expect(r.code, `${cases[i]![0].join(' ')}: ${r.stderr}`).toBe(1);
      expect(r.stderr).toBe(`sleap-signal: cannot reach Redis at ${cases[i]![1]}: connect ECONNREFUSED 127.0.0.1:1\n`);
      expect(r.stdout).toBe('');
      expect(r.ms).toBeLessThan(10_000);
    });

    // Something that accepts the connection and never answers: --timeout bounds the wait.
    const hole = await blackHole();
    try {
      const hung = await runCli(['rooms', '--redis', `redis://127.0.0.1:${hole.port}`, '--timeout', '500ms']);
      expect(hung.code).toBe(1);
      expect(hung.stderr).toMatch(/cannot reach Redis at .*: no connection within 500 ms/);
      expect(hung.ms).toBeLessThan(8_000);
    } finally {
      await hole.close();
    }
  });

  it('exit 1 for a room or peer that does not exist', async () => {
    const cli = inspectCli(() => redis.url, `none${process.pid}:`);
    const cases: [string[], string][] = [
      [['room', 'no-such-room'], 'room "no-such-room" not found'],
      [['room', 'no-such-room', '--watch', '--interval', '1'], 'room "no-such-room" not found'],
      [['peer', 'no-such-peer'], 'peer "no-such-peer" not found'],
      [['kick', 'no-such-peer'], 'peer "no-such-peer" not found'],
      [['room', 'delete', 'no-such-room'], 'room "no-such-room" not found'],
    ];
    const results = await Promise.all(cases.map(([args]) => cli(args)));
    results.forEach((r, i) => {
      expect(r.code, cases[i]![0].join(' ')).toBe(1);
      expect(r.stderr).toBe(`sleap-signal: ${cases[i]![1]}\n`);
      expect(r.stdout).toBe('');
    });
    // An empty cluster is not an error.
    const [rooms, servers] = await Promise.all([cli(['rooms']), cli(['servers', '--json'])]);
    expect(linesOf(rooms)).toEqual([expect.stringMatching(/^no active rooms \(and no live instance under the prefix/)]);
    expect(jsonOf(servers)).toMatchObject({ count: 0, servers: [] });
  });

  it('exit 2 for bad usage, before touching Redis', async () => {
    const url = redis.url;
    const cases: { args: string[]; env?: Record<string, string>; stderr: RegExp }[] = [
      { args: ['rooms'], stderr: /no Redis to read: give --redis <url> \(or --redis-cluster\), or set REDIS_URL/ },
      { args: ['rooms', '--redis', 'http://127.0.0.1:6379'], stderr: /--redis must be a redis:\/\/ or rediss:\/\/ URL/ },
      { args: ['rooms', '--redis', url, '--watch', '--interval', 'soon'], stderr: /--interval.*soon/ },
      // --watch is a plain switch: what follows it is not read as an interval.
      { args: ['rooms', '--redis', url, '--watch', '5'], stderr: /too many arguments/ },
      { args: ['servers', '--redis', url, '--watch', '--interval', '0.01'], stderr: /at least 0\.1 seconds/ },
      { args: ['room', '--redis', url], stderr: /missing required argument 'room_id'/ },
      { args: ['kick', '--redis', url], stderr: /missing required argument 'peer_id'/ },
      { args: ['kick', 'p', '--redis', url, '--reason', 'x'.repeat(124)], stderr: /at most 123 bytes/ },
      { args: ['room', 'delete', 'r', '--redis', url, '--watch'], stderr: /room delete takes no --watch/ },
      { args: ['peer', 'p', '--redis', url, '--watch'], stderr: /unknown option '--watch'/ },
    ];
    const results = await Promise.all(cases.map((c) => runCli(c.args, { env: c.env ?? {}, timeoutMs: 20_000 })));
    results.forEach((r, i) => {
      expect(r.code, `${cases[i]!.args.join(' ')}: ${r.stderr}`).toBe(2);
      expect(r.stderr).toMatch(cases[i]!.stderr);
      expect(r.stdout).toBe('');
    });
  });

  it('reads --redis and --prefix from REDIS_URL and REDIS_PREFIX', async () => {
    const prefix = `env${process.pid}:`;
    const keys = new KeySpace(prefix);
    const c = redis.client();
    try {
      // One room, written in serve's layout.
      const record = { peerId: 'env-peer', roomId: 'env-room', role: 'worker', metadata: {}, connectedAt: Date.now() / 1000, serverId: 'h-1', connectionId: 'h-1:1', sessionToken: 's', subject: null, presence: false };
      await c
        .pipeline()
        .hset(keys.roomPeers('env-room'), 'env-peer', JSON.stringify(record))
        .hset(keys.roomRoutes('env-room'), 'env-peer', 'h-1:1')
        .hset(keys.roomMeta('env-room'), { created_at: String(Date.now()), last_used: String(Date.now()) })
        .expire(keys.roomMeta('env-room'), 60)
        .zadd(keys.rooms, Date.now(), 'env-room')
        .exec();
    } finally {
      c.disconnect();
    }
    const r = await runCli(['rooms', '--json'], { env: { REDIS_URL: redis.url, REDIS_PREFIX: prefix }, timeoutMs: 20_000 });
    expect(jsonOf(r).rooms).toMatchObject([{ room_id: 'env-room', peers: 1, roles: { worker: 1 } }]);
  });
});

describe.runIf(requireRedis())('an empty listing says why it may be empty', () => {
  const redis = new RedisProcess();
  beforeAll(async () => {
    ensureBuilt();
    await redis.start();
  }, 60_000);
  afterAll(() => redis.stop());

  it('names the prefix when neither a room nor a live instance is under it', async () => {
    const r = await runCli(['rooms', '--redis', redis.url, '--prefix', 'nobody-here:']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout.trim()).toBe('no active rooms (and no live instance under the prefix "nobody-here:": is it the --prefix that serve uses?)');
  });
});

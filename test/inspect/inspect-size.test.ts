import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { ClusterReader } from '../../src/admin/cluster-reader.js';
import { KeySpace } from '../../src/state/redis/key-space.js';
import { ensureBuilt } from '../cli/cli-helpers.js';
import { RedisProcess, requireRedis } from '../helpers/redis-process.js';
import { inspectCli, jsonOf, linesOf, seedRooms } from './inspect-helpers.js';

/**
 * Many rooms, written straight into Redis in serve's key layout (test/inspect/seed-rooms.mjs),
 * at a size that keeps the suite fast; the full sizes (10,000 rooms, 5,000 peers in a room) are
 * measured by hand with the same script (see the README section "Operator commands").
 */
const ROOMS = 2_000;
const BIG_ROOM = 1_000;

describe.runIf(requireRedis())(`operator commands over ${ROOMS} rooms and a room of ${BIG_ROOM} peers`, () => {
  const redis = new RedisProcess();
  const prefix = `size${process.pid}:`;
  const cli = inspectCli(() => redis.url, prefix);

  beforeAll(async () => {
    ensureBuilt();
    await redis.start();
    await seedRooms(['--redis', redis.url, '--prefix', prefix, '--rooms', String(ROOMS), '--peers', '2']);
    await seedRooms(['--redis', redis.url, '--prefix', prefix, '--rooms', '1', '--peers', String(BIG_ROOM), '--room-prefix', 'big-']);
    const c = redis.client();
    await c.config('RESETSTAT');
    c.disconnect();
  }, 120_000);

  afterAll(async () => {
    await redis.stop();
  });

  it(`rooms --json returns all ${ROOMS + 1} rooms, quickly`, async () => {
    const r = await cli(['rooms', '--json']);
    const doc = jsonOf(r);
    expect(doc).toMatchObject({ indexed: ROOMS + 1, count: ROOMS + 1, truncated: false });
    const ids = new Set(doc.rooms.map((x: { room_id: string }) => x.room_id));
    for (let i = 0; i < ROOMS; i++) expect(ids.has(`room-${String(i).padStart(6, '0')}`)).toBe(true);
    expect(doc.rooms.find((x: { room_id: string }) => x.room_id === 'room-000007')).toMatchObject({ peers: 2, roles: { worker: 1, client: 1 } });
    // A whole process (Node start-up included) on a loaded two-core machine: generous.
    expect(r.ms).toBeLessThan(6_000);
  });

  it('reads them in a few pipelines (no round trip per room), in well under a second', async () => {
    const client = new Redis(redis.url);
    try {
      const reader = new ClusterReader(client, new KeySpace(prefix));
      await reader.listRooms(); // warm up
      const c = redis.client();
      const before = await c.info('stats');
      const pipelines = vi.spyOn(client, 'pipeline');
      const started = performance.now();
      const listing = await reader.listRooms();
      const ms = performance.now() - started;
      const after = await c.info('stats');
      c.disconnect();
      expect(listing.rooms).toHaveLength(ROOMS + 1);
      expect(ms).toBeLessThan(1_000);
      // One read of the index, then one pipeline per 500 rooms.
      expect(pipelines.mock.calls.length).toBe(Math.ceil((ROOMS + 1) / 500));
      // Three commands per room plus the index, however they are pipelined.
      const processed = (info: string) => Number(/total_commands_processed:(\d+)/.exec(info)![1]);
      expect(processed(after) - processed(before)).toBeLessThanOrEqual(3 * (ROOMS + 1) + 5);
    } finally {
      client.disconnect();
    }
  });

  it('rooms as a table, --limit, and stats over every room', async () => {
    const [table, limited, stats] = await Promise.all([cli(['rooms']), cli(['rooms', '--limit', '10', '--json']), cli(['stats', '--json'])]);
    const lines = linesOf(table);
    expect(lines).toHaveLength(ROOMS + 3);
    expect(lines[0]).toMatch(/^ROOM +PEERS +ROLES/);
    expect(lines.at(-1)).toBe(`${(ROOMS + 1).toLocaleString('en-US')} rooms, ${(2 * ROOMS + BIG_ROOM).toLocaleString('en-US')} peers`);
    // Columns line up over the whole list.
    const peersColumnEnd = lines[0]!.indexOf('PEERS') + 'PEERS'.length;
    for (const line of lines.slice(1, -1)) expect(line.slice(0, peersColumnEnd)).toMatch(/^\S+ +\d[\d,]*$/);
    const top = jsonOf(limited);
    expect(top).toMatchObject({ indexed: ROOMS + 1, count: 10, truncated: true });
    expect(jsonOf(stats)).toMatchObject({ rooms: ROOMS + 1, peers: 2 * ROOMS + BIG_ROOM, largest_room: { room_id: 'big-000000', peers: BIG_ROOM } });
  });

  it(`room shows all ${BIG_ROOM} peers of a big room, filters included`, async () => {
    const [all, workers, table] = await Promise.all([
      cli(['room', 'big-000000', '--json']),
      cli(['room', 'big-000000', '--role', 'worker', '--tag', 'gpu', '--json']),
      cli(['room', 'big-000000']),
    ]);
    const doc = jsonOf(all);
    expect(doc).toMatchObject({ peers: BIG_ROOM, count: BIG_ROOM });
    expect(doc.peer_list[0]).toMatchObject({ peer_id: 'big-000000-peer-0', role: 'worker', server_id: 'seeded-host-0001', server_status: 'live' });
    // Discovery order: connected_at, then peer id.
    expect(doc.peer_list.at(-1).peer_id).toBe(`big-000000-peer-${BIG_ROOM - 1}`);
    // worker: slots 0, 3, 6, ...; gpu: even slots; both: multiples of 6.
    expect(jsonOf(workers).count).toBe(Math.ceil(BIG_ROOM / 6));
    expect(linesOf(table).filter((l) => l.startsWith('big-000000-peer-'))).toHaveLength(BIG_ROOM);
  });

  it('never walked the keyspace: no KEYS or SCAN reached Redis', async () => {
    const c = redis.client();
    try {
      const stats = (await c.info('commandstats')).split('\n');
      expect(stats.some((l) => l.startsWith('cmdstat_hvals:'))).toBe(true);
      expect(stats.filter((l) => /^cmdstat_(keys|scan):/.test(l))).toEqual([]);
    } finally {
      c.disconnect();
    }
  });
});

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RedisBackend } from '../../src/state/redis/redis-backend.js';
import type { SignalingServer } from '../../src/server/signaling-server.js';
import { freshRoom, registeredPeer, startServer } from '../helpers/harness.js';
import { eventually, metricValue, scrape } from '../helpers/cluster.js';
import { REDIS_AVAILABLE, requireRedis } from '../helpers/redis-process.js';
import { RedisClusterProcess } from '../helpers/redis-cluster-process.js';
import { ensureBuilt, runCli } from '../cli/cli-helpers.js';

describe.runIf(requireRedis() && REDIS_AVAILABLE)('Redis Cluster: three masters, three replicas', () => {
  const cluster = new RedisClusterProcess();
  let prefixSeq = 0;
  beforeAll(async () => {
    await cluster.start();
  }, 90_000);
  afterAll(async () => {
    await cluster.stop();
  });

  let prefix = '';
  const servers = async (n: number, reapAfterMs = 1500): Promise<SignalingServer[]> => {
    prefix = `c${process.pid}-${++prefixSeq}:`;
    const out: SignalingServer[] = [];
    for (let i = 0; i < n; i++) {
      out.push(await startServer({}, { state: new RedisBackend({ url: '', cluster: cluster.seeds, prefix, reapAfterMs }) }));
    }
    return out;
  };

  it('relays, discovers and announces presence across instances, publishing through sharded pub/sub', async () => {
    const [s1, s2, s3] = await servers(3);
    const room = freshRoom();
    const watcher = await registeredPeer(s1!, { room_id: room, peer_id: 'watcher', presence: true });
    const worker = await registeredPeer(s2!, { room_id: room, peer_id: 'worker', role: 'worker', metadata: { tags: ['gpu'] } });
    expect(await watcher.client.next('peer_joined')).toMatchObject({ peer_id: 'worker' });
    const client = await registeredPeer(s3!, { room_id: room, peer_id: 'client', role: 'client' });
    expect(client.registered.peer_list).toEqual(['watcher', 'worker']);
    const list = await client.client.request({ type: 'discover_peers', filters: { role: 'worker', tags: ['gpu'] } }, 'peer_list');
    expect((list.peers as { peer_id: string }[]).map((p) => p.peer_id)).toEqual(['worker']);

    const before = await scrape(s3!);
    client.client.send({ type: 'offer', target: 'worker', sdp: 'o' });
    expect(await worker.client.next('offer')).toEqual({ type: 'offer', target: 'worker', sdp: 'o', sender: 'client' });
    worker.client.send({ type: 'answer', target: 'client', sdp: 'a' });
    expect((await client.client.next('answer')).sender).toBe('worker');
    client.client.send({ type: 'peer_message', to_peer_id: 'watcher', payload: { x: 1 } });
    expect((await watcher.client.next('peer_message')).payload).toEqual({ x: 1 });
    const after = await scrape(s3!);
    expect(metricValue(after, 'redis_operations_total', '{operation="spublish"}') - metricValue(before, 'redis_operations_total', '{operation="spublish"}')).toBe(2);

    await worker.client.close();
    expect(await watcher.client.next('peer_left')).toEqual({ type: 'peer_left', peer_id: 'worker', reason: 'left' });
    expect((await client.client.request({ type: 'peer_message', to_peer_id: 'worker', payload: 1 }, 'error')).code).toBe('PEER_NOT_FOUND');
  });

  it('serves the operator commands: rooms, room, servers, stats and a kick across instances', async () => {
    ensureBuilt();
    const [s1, s2] = await servers(2);
    const room = freshRoom();
    const watcher = await registeredPeer(s1!, { room_id: room, peer_id: 'watcher', presence: true });
    const victim = await registeredPeer(s2!, { room_id: room, peer_id: 'victim', role: 'worker', metadata: { tags: ['gpu'] } });
    await watcher.client.next('peer_joined');
    const target = ['--redis-cluster', cluster.seeds.join(','), '--prefix', prefix, '--json'];
    const rooms = await runCli(['rooms', ...target]);
    expect(rooms.code, rooms.stderr).toBe(0);
    expect((JSON.parse(rooms.stdout) as { rooms: { room_id: string; peers: number }[] }).rooms).toEqual([expect.objectContaining({ room_id: room, peers: 2 })]);
    const roomRun = await runCli(['room', room, ...target]);
    const shown = JSON.parse(roomRun.stdout) as { peer_list: { peer_id: string; server_id: string }[] };
    expect(shown.peer_list.map((p) => [p.peer_id, p.server_id])).toEqual([['watcher', s1!.serverId], ['victim', s2!.serverId]]);
    const listed = JSON.parse((await runCli(['servers', ...target])).stdout) as { live: number };
    expect(listed.live).toBe(2);
    const stats = JSON.parse((await runCli(['stats', ...target])).stdout) as { peers: number; rooms: number };
    expect([stats.rooms, stats.peers]).toEqual([1, 2]);
    const kick = await runCli(['kick', 'victim', ...target]);
    expect(kick.code, kick.stderr).toBe(0);
    expect((JSON.parse(kick.stdout) as { instance_notified: boolean }).instance_notified).toBe(true);
    expect((await victim.client.closed).code).toBe(1000);
    expect(await watcher.client.next('peer_left')).toEqual({ type: 'peer_left', peer_id: 'victim', reason: 'kicked' });
  }, 60_000);

  it('comes back on its own after a master is killed and its replica promoted', async () => {
    // Reap-after above the failover time (node timeout 1 s + election), as an operator sets it.
    const [s1, s2] = await servers(2, 6000);
    const rooms = [freshRoom(), freshRoom(), freshRoom(), freshRoom()];
    const pairs = [];
    for (const room of rooms) {
      const a = await registeredPeer(s1!, { room_id: room, peer_id: `${room}-a` });
      const b = await registeredPeer(s2!, { room_id: room, peer_id: `${room}-b` });
      pairs.push({ room, a, b });
    }
    // A failover with every write replicated (a lost write shows as a peer missing until its
    // instance writes it back, the case the restore on a topology change covers).
    await cluster.waitForReplicationCaughtUp();
    const [victim] = await cluster.masters();
    const killedAt = Date.now();
    await cluster.killNode(victim!);
    // Every room (spread over the three masters' slots) serves discovery and relays again.
    for (const { room, a, b } of pairs) {
      await eventually(
        async () => {
          const reply = await a.client.request({ type: 'discover_peers' }, 'peer_list', 3000).catch(() => ({ type: 'timeout' }));
          return reply;
        },
        (m) => m.type === 'peer_list' && (m as { count?: number }).count === 1,
        20_000,
        250,
      );
      // A relay during the failover may get SERVICE_UNAVAILABLE (retry), never PEER_NOT_FOUND.
      const delivered = await eventually(
        async () => {
          a.client.drain();
          a.client.send({ type: 'peer_message', to_peer_id: `${room}-b`, payload: 'after failover' });
          const got = await b.client.next('peer_message', 1000).catch(() => null);
          const errors = a.client.drain().filter((m) => m.type === 'error');
          expect(errors.filter((m) => m.code !== 'SERVICE_UNAVAILABLE')).toEqual([]);
          return got;
        },
        (got) => got !== null,
        20_000,
        100,
      );
      expect(delivered!.payload).toBe('after failover');
    }
    const recovered = Date.now() - killedAt;
    expect(recovered).toBeLessThan(20_000);
    for (const s of [s1!, s2!]) {
      await eventually(() => fetch(`http://127.0.0.1:${s.address.port}/health`).then((r) => r.status), (st) => st === 200, 10_000);
    }
  }, 60_000);
});

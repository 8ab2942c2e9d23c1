import { afterEach, describe, expect, it } from 'vitest';
import { connect, freshRoom, quiet, registeredPeer, startServer } from '../helpers/harness.js';
import { eventually, useRedisCluster } from '../helpers/cluster.js';
import { requireRedis } from '../helpers/redis-process.js';
import { ServeProcess } from '../helpers/serve-process.js';

describe.runIf(requireRedis())('faults: dead instances, Redis outages, drains', () => {
  const cluster = useRedisCluster();
  const procs: ServeProcess[] = [];
  afterEach(async () => {
    await Promise.all(procs.splice(0).map((p) => p.kill()));
  });
  const spawnServe = async (...args: string[]) => {
    const p = await ServeProcess.start(['--redis', cluster.redis.url, '--prefix', cluster.prefix, '--log-level', 'info', ...args]);
    procs.push(p);
    return p;
  };

  it('removes the peers of a kill -9ed instance and tells presence subscribers (server_lost)', async () => {
    const [survivor] = await cluster.servers(1, {}, { reapAfterMs: 1000 });
    const doomed = await spawnServe('--reap-after', '1s');
    const room = freshRoom();
    const watcher = await registeredPeer(survivor!, { room_id: room, peer_id: 'watcher', presence: true });
    await registeredPeer(doomed.url, { room_id: room, peer_id: 'on-doomed-1' });
    await registeredPeer(doomed.url, { room_id: room, peer_id: 'on-doomed-2' });
    expect((await watcher.client.request({ type: 'discover_peers' }, 'peer_list')).count).toBe(2);
    watcher.client.drain();
    const killedAt = Date.now();
    await doomed.kill();
    const left = [await watcher.client.next('peer_left', 10_000), await watcher.client.next('peer_left', 10_000)];
    expect(left.map((m) => m.peer_id).sort()).toEqual(['on-doomed-1', 'on-doomed-2']);
    expect(left.every((m) => m.reason === 'server_lost')).toBe(true);
    expect(Date.now() - killedAt).toBeLessThan(8000);
    expect((await watcher.client.request({ type: 'discover_peers' }, 'peer_list')).count).toBe(0);
    const redis = cluster.redis.client();
    try {
      expect(await redis.zrange(`${cluster.prefix}servers`, 0, -1)).toEqual([survivor!.serverId]);
      expect(await redis.exists(`${cluster.prefix}peer:{p:on-doomed-1}`)).toBe(0);
    } finally {
      redis.disconnect();
    }
  });

  it('spares a lapsed instance that still listens for a grace, and a reaped live instance writes its peers back', { timeout: 20_000 }, async () => {
    // The reaper ticks every 3 s and spares a listener for 4.5 s past the lapse (wide margins for a
    // loaded machine); the other instance beats only when the test says so.
    const [reaper] = await cluster.servers(1, {}, { reapAfterMs: 9000 });
    const backend = cluster.backend({ reapAfterMs: 60_000 });
    const live = await startServer({}, { state: backend });
    const room = freshRoom();
    const watcher = await registeredPeer(reaper!, { room_id: room, peer_id: 'watcher', presence: true });
    const worker = await registeredPeer(live, { room_id: room, peer_id: 'worker', role: 'worker' });
    expect((await watcher.client.next('peer_joined')).peer_id).toBe('worker');
    const redis = cluster.redis.client();
    try {
      // What a failover of the master holding its heartbeat looks like to the others.
      await redis.del(backend.keys.server(live.serverId));
      await redis.zadd(backend.keys.servers, Date.now() - 9100, live.serverId);
      // At least one reaper pass sees it lapsed, 1.1 s before the grace ends.
      await new Promise((r) => setTimeout(r, 3300));
      expect((await watcher.client.request({ type: 'discover_peers' }, 'peer_list')).count).toBe(1);
      // Past the grace it counts as lost even though its subscriber is still there.
      expect(await watcher.client.next('peer_left', 6000)).toEqual({ type: 'peer_left', peer_id: 'worker', reason: 'server_lost' });
      expect((await watcher.client.request({ type: 'discover_peers' }, 'peer_list')).count).toBe(0);
      // Its next heartbeat finds its key gone: it writes the worker back and tells the room.
      await backend.heartbeat();
      expect(await watcher.client.next('peer_joined', 3000)).toMatchObject({ type: 'peer_joined', peer_id: 'worker', role: 'worker' });
      const list = await watcher.client.request({ type: 'discover_peers' }, 'peer_list');
      expect((list.peers as { peer_id: string }[]).map((p) => p.peer_id)).toEqual(['worker']);
      watcher.client.send({ type: 'peer_message', to_peer_id: 'worker', payload: 'back' });
      expect((await worker.client.next('peer_message')).payload).toBe('back');
      expect(await redis.sismember(backend.keys.serverPeers(live.serverId), 'worker')).toBe(1);
    } finally {
      redis.disconnect();
    }
  });

  it('answers PEER_NOT_FOUND for a target whose instance vanished, and cleans its entry', async () => {
    const [survivor] = await cluster.servers(1, {}, { reapAfterMs: 60_000 });
    const doomed = await spawnServe('--reap-after', '60s');
    const room = freshRoom();
    const sender = await registeredPeer(survivor!, { room_id: room, peer_id: 'sender', presence: true });
    await registeredPeer(doomed.url, { room_id: room, peer_id: 'ghost' });
    await sender.client.next('peer_joined');
    await doomed.kill();
    const reply = await sender.client.request({ type: 'peer_message', to_peer_id: 'ghost', payload: 1 }, 'error');
    expect(reply.code).toBe('PEER_NOT_FOUND');
    expect(await sender.client.next('peer_left')).toEqual({ type: 'peer_left', peer_id: 'ghost', reason: 'server_lost' });
    expect((await sender.client.request({ type: 'discover_peers' }, 'peer_list')).count).toBe(0);
  });

  it('keeps connections through a Redis restart and restores shared state with no client action', async () => {
    const [s1, s2] = await cluster.servers(2);
    const room = freshRoom();
    const a = await registeredPeer(s1!, { room_id: room, peer_id: 'a', presence: true });
    const b = await registeredPeer(s1!, { room_id: room, peer_id: 'b', is_admin: true });
    const c = await registeredPeer(s2!, { room_id: room, peer_id: 'c', metadata: { tags: ['gpu'] } });
    const d = await registeredPeer(s2!, { room_id: room, peer_id: 'd' });
    a.client.drain();

    await cluster.redis.kill();
    await eventually(() => fetch(`http://127.0.0.1:${s1!.address.port}/health`).then((r) => r.status), (st) => st === 503);
    // Shared state is unreachable: refused, not queued.
    expect((await a.client.request({ type: 'discover_peers' }, 'peer_list')).code).toBe('SERVICE_UNAVAILABLE');
    expect((await a.client.request({ type: 'peer_message', to_peer_id: 'c', payload: 1 }, 'never')).code).toBe('SERVICE_UNAVAILABLE');
    const fresh = await connect(s2!);
    expect((await fresh.request({ type: 'register', room_id: room, peer_id: 'e' }, 'registered')).code).toBe('SERVICE_UNAVAILABLE');
    // Same-instance relays and pings still work.
    expect((await a.client.request({ type: 'ping' }, 'pong')).type).toBe('pong');
    a.client.send({ type: 'peer_message', to_peer_id: 'b', payload: 'local' });
    expect((await b.client.next('peer_message')).payload).toBe('local');
    // d leaves during the outage: applied locally at once.
    await d.client.close();

    await cluster.redis.start(); // same port, empty
    for (const s of [s1!, s2!]) {
      await eventually(() => fetch(`http://127.0.0.1:${s.address.port}/health`).then((r) => r.status), (st) => st === 200, 10_000);
    }
    const list = await eventually(
      () => a.client.request({ type: 'discover_peers' }, 'peer_list'),
      (m) => m.type === 'peer_list' && m.count === 2,
      10_000,
    );
    expect((list.peers as { peer_id: string; metadata: unknown }[]).map((p) => [p.peer_id, p.metadata])).toEqual([
      ['b', {}],
      ['c', { tags: ['gpu'] }],
    ]);
    c.client.send({ type: 'peer_message', to_peer_id: 'a', payload: 'across again' });
    expect((await a.client.next('peer_message')).payload).toBe('across again');
    expect(await a.client.next('peer_left', 5000)).toEqual({ type: 'peer_left', peer_id: 'd', reason: 'left' });
    // The admin seat was restored too.
    const late = await registeredPeer(s2!, { room_id: room, peer_id: 'late' });
    expect(late.registered.admin_peer_id).toBe('b');
  });

  it('tells the other instances the joins and updates made while one instance was cut off from the bus, in order', async () => {
    const cutOff = cluster.backend();
    const s1 = await startServer({}, { state: cutOff });
    const [s2] = await cluster.servers(1);
    const room = freshRoom();
    const watcher = await registeredPeer(s2!, { room_id: room, peer_id: 'w', presence: true });
    const near = await registeredPeer(s1, { room_id: room, peer_id: 'near', presence: true });
    const stay = await registeredPeer(s1, { room_id: room, peer_id: 'stay' });
    expect((await watcher.client.next('peer_joined')).peer_id).toBe('near');
    expect((await watcher.client.next('peer_joined')).peer_id).toBe('stay');
    // near hears of stay through s1's own subscriber: wait for it before the cut, or it may come after.
    expect((await near.client.next('peer_joined')).peer_id).toBe('stay');
    near.client.drain();

    // Fault injection: s1's subscriber connection drops and stays down (its command connection
    // works), so s1 is unhealthy while registrations through it still succeed.
    const subscriber = (cutOff as unknown as { connection: { sub: { disconnect(): void; connect(): Promise<void> } } }).connection.sub;
    subscriber.disconnect();
    await eventually(() => fetch(`http://127.0.0.1:${s1.address.port}/health`).then((r) => r.status), (st) => st === 503);
    await registeredPeer(s1, { room_id: room, peer_id: 'joiner', metadata: { tags: ['gpu'] } });
    expect(await stay.client.request({ type: 'update_metadata', metadata: { tags: ['cpu'] } }, 'metadata_updated')).toMatchObject({ type: 'metadata_updated' });
    // s1's own subscriber hears both at once; s2's watcher has heard nothing yet.
    expect((await near.client.next('peer_joined')).peer_id).toBe('joiner');
    expect((await near.client.next('peer_updated')).peer_id).toBe('stay');
    expect((await quiet(watcher.client, 300)).length).toBe(0);

    await subscriber.connect();
    await eventually(() => fetch(`http://127.0.0.1:${s1.address.port}/health`).then((r) => r.status), (st) => st === 200, 10_000);
    const joined = await watcher.client.next('peer_joined', 8000);
    expect(joined).toMatchObject({ peer_id: 'joiner', metadata: { tags: ['gpu'] } });
    expect(await watcher.client.next('peer_updated', 8000)).toMatchObject({ peer_id: 'stay', metadata: { tags: ['cpu'] } });
    // Nothing twice, and s1's own subscriber is not told again.
    expect((await quiet(watcher.client, 300)).length).toBe(0);
    expect((await quiet(near.client, 300)).length).toBe(0);
    await s1.stop();
  });

  it('drains one instance on SIGTERM: 1012 to its clients, who move to another; its keys are gone', async () => {
    const [stay] = await cluster.servers(1);
    const leaving = await spawnServe('--drain-timeout', '500ms');
    const room = freshRoom();
    const watcher = await registeredPeer(stay!, { room_id: room, peer_id: 'watcher', presence: true });
    const moving = await registeredPeer(leaving.url, { room_id: room, peer_id: 'moving' });
    await watcher.client.next('peer_joined');
    leaving.signal('SIGTERM');
    expect((await moving.client.closed).code).toBe(1012);
    expect(await watcher.client.next('peer_left')).toEqual({ type: 'peer_left', peer_id: 'moving', reason: 'server_shutdown' });
    expect(await leaving.exited).toBe(0);
    const back = await registeredPeer(stay!, { room_id: room, peer_id: 'moving' });
    expect(back.registered.peer_list).toEqual(['watcher']);
    const redis = cluster.redis.client();
    try {
      const keys = await redis.keys(`${cluster.prefix}server*`);
      expect(keys.some((k) => !k.includes(stay!.serverId) && !k.endsWith(':servers') && k !== `${cluster.prefix}servers`)).toBe(false);
      expect(await redis.zrange(`${cluster.prefix}servers`, 0, -1)).toEqual([stay!.serverId]);
    } finally {
      redis.disconnect();
    }
  });
});

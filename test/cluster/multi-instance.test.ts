import { describe, expect, it } from 'vitest';
import { connect, freshRoom, quiet, registeredPeer } from '../helpers/harness.js';
import { eventually, metricValue, scrape, useRedisCluster } from '../helpers/cluster.js';
import { requireRedis } from '../helpers/redis-process.js';

describe.runIf(requireRedis())('three instances on one Redis', () => {
  const cluster = useRedisCluster();

  it('relays every message type between peers on different instances', async () => {
    const [s1, s2, s3] = await cluster.servers(3);
    const room = freshRoom();
    const a = await registeredPeer(s1!, { room_id: room, peer_id: 'a' });
    const b = await registeredPeer(s2!, { room_id: room, peer_id: 'b' });
    const c = await registeredPeer(s3!, { room_id: room, peer_id: 'c' });
    expect(c.registered.peer_list).toEqual(['a', 'b']);
    expect(a.registered.server_id).not.toBe(b.registered.server_id);

    a.client.send({ type: 'peer_message', to_peer_id: 'b', payload: { n: 1 } });
    expect(await b.client.next('peer_message')).toEqual({ type: 'peer_message', from_peer_id: 'a', to_peer_id: 'b', payload: { n: 1 } });
    b.client.send({ type: 'offer', target: 'c', sdp: 'o', extra: [1] });
    expect(await c.client.next('offer')).toEqual({ type: 'offer', target: 'c', sdp: 'o', extra: [1], sender: 'b' });
    c.client.send({ type: 'answer', target: 'b', sdp: 'ans' });
    expect((await b.client.next('answer')).sender).toBe('c');
    c.client.send({ type: 'candidate', target: 'a', candidate: 'cand' });
    expect((await a.client.next('candidate')).sender).toBe('c');
    a.client.send({ type: 'mesh_connect', target_peer_id: 'c', offer: { sdp: 1 } });
    expect(await c.client.next('mesh_offer')).toEqual({ type: 'mesh_offer', from_peer_id: 'a', offer: { sdp: 1 } });
    c.client.send({ type: 'mesh_answer', target_peer_id: 'a', answer: { sdp: 2 } });
    expect(await a.client.next('mesh_answer')).toEqual({ type: 'mesh_answer', from_peer_id: 'c', answer: { sdp: 2 } });
    b.client.send({ type: 'ice_candidate', target_peer_id: 'a', candidate: { c: 3 } });
    expect(await a.client.next('ice_candidate')).toEqual({ type: 'ice_candidate', from_peer_id: 'b', candidate: { c: 3 } });
    for (const p of [a, b, c]) expect((await quiet(p.client)).filter((m) => m.type === 'error')).toEqual([]);
  });

  it('lists the room right in registered replies and discovery, whether an instance\'s copy of the room is current or stale', async () => {
    const [s1, s2] = await cluster.servers(2);
    const room = freshRoom();
    const a = await registeredPeer(s1!, { room_id: room, peer_id: 'a', metadata: { tags: ['x'] } });
    const b = await registeredPeer(s1!, { room_id: room, peer_id: 'b', role: 'worker' });
    expect(b.registered.peer_list).toEqual(['a']);
    expect(b.registered.peer_metadata).toEqual({ a: { tags: ['x'] } });
    // A join through the other instance: s1's copy is stale from here.
    await registeredPeer(s2!, { room_id: room, peer_id: 'c', metadata: { properties: { n: 1 } } });
    const d = await registeredPeer(s1!, { room_id: room, peer_id: 'd' });
    expect(d.registered.peer_list).toEqual(['a', 'b', 'c']);
    expect(d.registered.peer_metadata).toEqual({ a: { tags: ['x'] }, b: {}, c: { properties: { n: 1 } } });
    // s1's copy is current now: joins through it are applied to the copy.
    const e = await registeredPeer(s1!, { room_id: room, peer_id: 'e' });
    expect(e.registered.peer_list).toEqual(['a', 'b', 'c', 'd']);
    // d moves away (its leave makes s1's copy stale again); g's join refreshes it.
    await d.client.request({ type: 'register', room_id: freshRoom(), peer_id: 'd' }, 'registered');
    const g = await registeredPeer(s1!, { room_id: room, peer_id: 'g' });
    expect(g.registered.peer_list).toEqual(['a', 'b', 'c', 'e']);
    // On the current copy: b registers again in place with new metadata, e renames itself f.
    await b.client.request({ type: 'register', room_id: room, peer_id: 'b', role: 'worker', metadata: { tags: ['gpu'] } }, 'registered');
    const renamed = await e.client.request({ type: 'register', room_id: room, peer_id: 'f' }, 'registered');
    expect(renamed.peer_list).toEqual(['a', 'b', 'c', 'g']);
    expect(renamed.peer_metadata).toEqual({ a: { tags: ['x'] }, b: { tags: ['gpu'] }, c: { properties: { n: 1 } }, g: {} });
    const h = await registeredPeer(s1!, { room_id: room, peer_id: 'h' });
    expect(h.registered.peer_list).toEqual(['a', 'b', 'c', 'g', 'f']);
    for (const server of [s1!, s2!]) {
      const viewer = await registeredPeer(server, { room_id: room });
      const list = await viewer.client.request({ type: 'discover_peers' }, 'peer_list');
      expect((list.peers as { peer_id: string; metadata: unknown }[]).map((p) => [p.peer_id, p.metadata])).toEqual([
        ['a', { tags: ['x'] }],
        ['b', { tags: ['gpu'] }],
        ['c', { properties: { n: 1 } }],
        ['g', {}],
        ['f', {}],
        ['h', {}],
        ...(server === s2 ? [[expect.any(String), {}]] : []),
      ]);
    }
    void a;
  });

  it('gives concurrent joins on two instances room listings that chain: each lists exactly the joins before it', async () => {
    const [s1, s2] = await cluster.servers(2);
    const room = freshRoom();
    await registeredPeer(s1!, { room_id: room, peer_id: 'first' });
    const clients = await Promise.all(Array.from({ length: 50 }, (_, i) => connect(i % 5 === 4 ? s2! : s1!)));
    const replies = await Promise.all(
      clients.map((c, i) => c.request({ type: 'register', room_id: room, peer_id: `p${String(i).padStart(2, '0')}` }, 'registered')),
    );
    const lists = replies.map((r) => ({ self: r.peer_id as string, others: r.peer_list as string[] })).sort((a, b) => a.others.length - b.others.length);
    expect(lists.map((l) => l.others.length)).toEqual(Array.from({ length: 50 }, (_, i) => i + 1));
    for (let i = 1; i < lists.length; i++) {
      // The next join sees everyone the previous one saw, plus the previous one itself.
      expect(new Set(lists[i]!.others)).toEqual(new Set([...lists[i - 1]!.others, lists[i - 1]!.self]));
    }
    const viewer = await registeredPeer(s1!, { room_id: room, peer_id: 'viewer' });
    expect(new Set(viewer.registered.peer_list as string[])).toEqual(new Set(['first', ...lists.map((l) => l.self)]));
  });

  it('answers PEER_NOT_FOUND and PEER_NOT_IN_ROOM across instances', async () => {
    const [s1, s2] = await cluster.servers(2);
    const a = await registeredPeer(s1!, { room_id: freshRoom(), peer_id: 'x1' });
    await registeredPeer(s2!, { room_id: freshRoom(), peer_id: 'x2' });
    const notInRoom = await a.client.request({ type: 'peer_message', to_peer_id: 'x2', payload: 1 }, 'error');
    expect(notInRoom.code).toBe('PEER_NOT_IN_ROOM');
    const notFound = await a.client.request({ type: 'offer', target: 'nobody', sdp: '' }, 'error');
    expect(notFound.code).toBe('PEER_NOT_FOUND');
  });

  it('discovers with filters and sees metadata updates across instances', async () => {
    const [s1, s2, s3] = await cluster.servers(3);
    const room = freshRoom();
    await registeredPeer(s1!, { room_id: room, peer_id: 'w1', role: 'worker', metadata: { tags: ['gpu'], properties: { vram: 24 } } });
    const w2 = await registeredPeer(s2!, { room_id: room, peer_id: 'w2', role: 'worker', metadata: { tags: ['cpu'], properties: { vram: 0 } } });
    const client = await registeredPeer(s3!, { room_id: room, peer_id: 'cl', role: 'client' });
    const list = await client.client.request(
      { type: 'discover_peers', filters: { role: 'worker', tags: ['gpu', 'tpu'], properties: { vram: { $gte: 16 } } } },
      'peer_list',
    );
    expect((list.peers as { peer_id: string }[]).map((p) => p.peer_id)).toEqual(['w1']);
    const updated = await w2.client.request({ type: 'update_metadata', metadata: { tags: ['gpu'], properties: { vram: 48 } } }, 'metadata_updated');
    expect(updated.metadata).toEqual({ tags: ['gpu'], properties: { vram: 48 } });
    const again = await client.client.request(
      { type: 'discover_peers', filters: { role: 'worker', properties: { vram: { $gte: 16 } } } },
      'peer_list',
    );
    expect((again.peers as { peer_id: string }[]).map((p) => p.peer_id)).toEqual(['w1', 'w2']);
  });

  it('delivers presence events to subscribers on every instance', async () => {
    const [s1, s2, s3] = await cluster.servers(3);
    const room = freshRoom();
    const watcher1 = await registeredPeer(s1!, { room_id: room, peer_id: 'watch1', presence: true });
    const watcher2 = await registeredPeer(s2!, { room_id: room, peer_id: 'watch2', presence: true });
    expect(await watcher1.client.next('peer_joined')).toMatchObject({ peer_id: 'watch2' });
    const joiner = await registeredPeer(s3!, { room_id: room, peer_id: 'joiner', role: 'worker' });
    for (const w of [watcher1, watcher2]) expect(await w.client.next('peer_joined')).toEqual({ type: 'peer_joined', peer_id: 'joiner', role: 'worker', metadata: {} });
    await joiner.client.request({ type: 'update_metadata', metadata: { properties: { busy: true } } }, 'metadata_updated');
    for (const w of [watcher1, watcher2]) expect(await w.client.next('peer_updated')).toMatchObject({ peer_id: 'joiner', metadata: { properties: { busy: true } } });
    await joiner.client.close();
    for (const w of [watcher1, watcher2]) expect(await w.client.next('peer_left')).toEqual({ type: 'peer_left', peer_id: 'joiner', reason: 'left' });
    expect((await quiet(joiner.client, 50)).length).toBe(0);
  });

  it('takes a peer id over from a connection on another instance (4002) with its session token', async () => {
    const [s1, s2] = await cluster.servers(2);
    const room = freshRoom();
    const old = await registeredPeer(s1!, { room_id: room, peer_id: 'worker-1' });
    const refused = await connect(s2!);
    expect((await refused.request({ type: 'register', room_id: room, peer_id: 'worker-1' }, 'registered')).code).toBe('PEER_ID_TAKEN');
    const fresh = await registeredPeer(s2!, { room_id: room, peer_id: 'worker-1', session_token: old.registered.session_token });
    expect(fresh.registered.session_token).toBe(old.registered.session_token);
    expect((await old.client.closed).code).toBe(4002);
    const other = await registeredPeer(s1!, { room_id: room, peer_id: 'other' });
    other.client.send({ type: 'peer_message', to_peer_id: 'worker-1', payload: 'still here' });
    expect((await fresh.client.next('peer_message')).payload).toBe('still here');
    const list = await other.client.request({ type: 'discover_peers' }, 'peer_list');
    expect(list.count).toBe(1);
  });

  it('kicks a peer held by another instance through the operator endpoint', async () => {
    const [s1, s2] = await cluster.servers(2);
    const room = freshRoom();
    const victim = await registeredPeer(s2!, { room_id: room, peer_id: 'victim' });
    const watcher = await registeredPeer(s1!, { room_id: room, peer_id: 'w', presence: true });
    const res = await fetch(`http://127.0.0.1:${s1!.address.port}/delete-peer`, { method: 'POST', body: JSON.stringify({ peer_id: 'victim' }) });
    expect(res.status).toBe(200);
    expect((await victim.client.closed).code).toBe(1000);
    expect(await watcher.client.next('peer_left')).toEqual({ type: 'peer_left', peer_id: 'victim', reason: 'kicked' });
    expect((await watcher.client.request({ type: 'discover_peers' }, 'peer_list')).count).toBe(0);
  });

  it('relays between peers on the same instance without any Redis round trip', async () => {
    const [s1] = await cluster.servers(2);
    const room = freshRoom();
    const a = await registeredPeer(s1!, { room_id: room, peer_id: 'la' });
    const b = await registeredPeer(s1!, { room_id: room, peer_id: 'lb' });
    const before = await scrape(s1!);
    for (let i = 0; i < 20; i++) a.client.send({ type: 'peer_message', to_peer_id: 'lb', payload: i });
    for (let i = 0; i < 20; i++) expect((await b.client.next('peer_message')).payload).toBe(i);
    const after = await scrape(s1!);
    const ops = (t: string) =>
      t.split('\n').filter((l) => l.startsWith('redis_operations_total{') && !/"(heartbeat|census)"/.test(l)).reduce((n, l) => n + Number(l.split(' ').pop()), 0);
    expect(ops(after) - ops(before)).toBe(0);
    expect(metricValue(after, 'messages_sent_total', '{type="peer_message"}') - metricValue(before, 'messages_sent_total', '{type="peer_message"}')).toBe(20);
  });

  it('cross-instance relay to a target missing from the sender\'s copy of the room: one script call, then the copy is brought up to date and relays go as one PUBLISH', async () => {
    const [s1, s2] = await cluster.servers(2);
    const room = freshRoom();
    // a registers first: s1's copy of the room does not hold rb, who joins through s2 afterwards.
    const a = await registeredPeer(s1!, { room_id: room, peer_id: 'ra' });
    const b = await registeredPeer(s2!, { room_id: room, peer_id: 'rb' });
    const ops = async () => {
      const text = await scrape(s1!);
      const op = (name: string) => metricValue(text, 'redis_operations_total', `{operation="${name}"}`);
      const others = text
        .split('\n')
        .filter((l) => l.startsWith('redis_operations_total{') && !/"(route|publish|list_room|heartbeat|census)"/.test(l))
        .reduce((n, l) => n + Number(l.split(' ').pop()), 0);
      return { route: op('route'), publish: op('publish'), list: op('list_room'), others };
    };
    const before = await ops();
    for (let i = 0; i < 5; i++) a.client.send({ type: 'peer_message', to_peer_id: 'rb', payload: `m${i}` });
    for (let i = 0; i < 5; i++) expect((await b.client.next('peer_message')).payload).toBe(`m${i}`);
    // The look-up found rb, whom the copy lacked: one listing of what changed (not one per miss)
    // brings the copy up to date.
    const middle = await eventually(ops, (o) => o.list - before.list >= 1);
    expect(middle.list - before.list).toBe(1);
    expect(middle.route - before.route).toBeGreaterThanOrEqual(1);
    expect(middle.route - before.route).toBeLessThanOrEqual(5);
    for (let i = 1; i <= 50; i++) a.client.send({ type: 'peer_message', to_peer_id: 'rb', payload: i });
    for (let i = 1; i <= 50; i++) expect((await b.client.next('peer_message')).payload).toBe(i);
    const after = await ops();
    expect(after.route - middle.route).toBe(0);
    expect(after.publish - middle.publish).toBeGreaterThan(0);
    expect(after.publish - middle.publish).toBeLessThanOrEqual(50);
    expect(after.list - middle.list).toBe(0);
    expect(after.others - before.others).toBe(0);
  });

  it('cross-instance relay to a target the sender\'s instance knows from its copy of the room: one PUBLISH, no script', async () => {
    const [s1, s2] = await cluster.servers(2);
    const room = freshRoom();
    // b registers first: a's registration on s1 brings the room, b with it, into s1's copy.
    const b = await registeredPeer(s2!, { room_id: room, peer_id: 'cb' });
    const a = await registeredPeer(s1!, { room_id: room, peer_id: 'ca' });
    const before = await scrape(s1!);
    for (let i = 0; i < 50; i++) a.client.send({ type: 'peer_message', to_peer_id: 'cb', payload: i });
    for (let i = 0; i < 50; i++) expect((await b.client.next('peer_message')).payload).toBe(i);
    const after = await scrape(s1!);
    const delta = (op: string) => metricValue(after, 'redis_operations_total', `{operation="${op}"}`) - metricValue(before, 'redis_operations_total', `{operation="${op}"}`);
    expect(delta('route')).toBe(0);
    expect(delta('publish')).toBeGreaterThan(0);
    expect(delta('publish')).toBeLessThanOrEqual(50);

    // b moves to another room on s2; s1's copy still names it. The relay must not follow it there.
    const other = freshRoom();
    await b.client.request({ type: 'register', room_id: other, peer_id: 'cb' }, 'registered');
    a.client.send({ type: 'peer_message', to_peer_id: 'cb', payload: 'leak?' });
    const error = await a.client.next('error');
    expect(error).toMatchObject({ code: 'PEER_NOT_IN_ROOM', request_type: 'peer_message' });
    expect((await quiet(b.client, 300)).filter((m) => m.type === 'peer_message')).toEqual([]);
  });

  it('leaves no key behind but room records inside their TTL', async () => {
    const servers = await cluster.servers(3, {}, { roomTtlMs: 60_000 });
    const room = freshRoom();
    const peers = [];
    for (let i = 0; i < 6; i++) peers.push(await registeredPeer(servers[i % 3]!, { room_id: room, peer_id: `leak-${i}`, presence: i === 0, is_admin: i === 1 }));
    peers[0]!.client.send({ type: 'peer_message', to_peer_id: 'leak-4', payload: 'x' });
    await peers[4]!.client.next('peer_message');
    await peers[2]!.client.request({ type: 'leave' }, 'left');
    for (const p of peers) await p.client.close();
    for (const s of servers) await s.stop();
    const redis = cluster.redis.client();
    try {
      const keys = (await redis.keys(`${cluster.prefix}*`)).sort();
      for (const key of keys) {
        const kept = [`${cluster.prefix}rooms`, `${cluster.prefix}room:{r:${room}}:meta`, `${cluster.prefix}room:{r:${room}}:log`];
        expect(kept.includes(key), `unexpected key ${key}`).toBe(true);
        const ttl = await redis.pttl(key);
        expect(ttl, `${key} has no TTL`).toBeGreaterThan(0);
        expect(ttl).toBeLessThanOrEqual(60_000);
      }
    } finally {
      redis.disconnect();
    }
  });
});

describe.runIf(requireRedis())('expiry', () => {
  const cluster = useRedisCluster();

  it('keeps a long-lived peer registered past many room TTLs while its owner lives', async () => {
    // TTL 1.2 s, heartbeat every 100 ms: the keepalive must refresh what a TTL would drop.
    const [s1, s2] = await cluster.servers(2, {}, { roomTtlMs: 1200, reapAfterMs: 300 });
    const room = freshRoom();
    const worker = await registeredPeer(s1!, { room_id: room, peer_id: 'long-job', metadata: { tags: ['gpu'] } });
    await new Promise((r) => setTimeout(r, 4000));
    const client = await registeredPeer(s2!, { room_id: room, peer_id: 'later' });
    expect(client.registered.peer_list).toEqual(['long-job']);
    client.client.send({ type: 'peer_message', to_peer_id: 'long-job', payload: 'still there' });
    expect((await worker.client.next('peer_message')).payload).toBe('still there');
    const redis = cluster.redis.client();
    try {
      for (const key of [`${cluster.prefix}peer:{p:long-job}`, `${cluster.prefix}room:{r:${room}}:peers`]) {
        const ttl = await redis.pttl(key);
        expect(ttl, key).toBeGreaterThan(0);
        expect(ttl, key).toBeLessThanOrEqual(2000); // TTLs are set in whole seconds
      }
    } finally {
      redis.disconnect();
    }
  });
});

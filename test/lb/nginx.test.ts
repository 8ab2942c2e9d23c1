import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { connect, freshRoom, registeredPeer, type ServerMessage, type SignalClient } from '../helpers/harness.js';
import { eventually } from '../helpers/cluster.js';
import { NGINX_EXAMPLE, NginxProcess, renderExample, requireNginx } from '../helpers/nginx-process.js';
import { RedisProcess, requireRedis } from '../helpers/redis-process.js';
import { ServeProcess } from '../helpers/serve-process.js';
import { ensureBuilt, runCli } from '../cli/cli-helpers.js';

/**
 * A real load balancer: nginx running deploy/nginx.conf in front of three `serve --redis`
 * processes sharing one redis-server. Clients connect only through nginx's port.
 */

const REDIS_OK = requireRedis();
const NGINX_OK = requireNginx();

interface Peer {
  client: SignalClient;
  registered: ServerMessage;
}

describe('deploy/nginx.conf rendering', () => {
  it('keeps the example as committed except the upstream addresses, the listen port and the access log path', () => {
    const source = readFileSync(NGINX_EXAMPLE, 'utf8');
    const rendered = renderExample(source, { port: 4321, upstreams: ['127.0.0.1:1', '127.0.0.1:2', '127.0.0.1:3'], accessLog: '/tmp/x/access.log' });
    expect(rendered).toMatch(/^ {4}server 127\.0\.0\.1:1 max_fails=1 fail_timeout=10s;$/m);
    expect(rendered).toMatch(/^ {4}server 127\.0\.0\.1:3 max_fails=1 fail_timeout=10s;$/m);
    expect(rendered).toMatch(/^ {4}listen 127\.0\.0\.1:4321;$/m);
    expect(rendered).toMatch(/^ {4}access_log \/tmp\/x\/access\.log sleap_signal;$/m);
    const substituted = (line: string) => /^\s*(server \S+ |listen |access_log \/)/.test(line);
    const strip = (text: string) => text.split('\n').filter((line) => !substituted(line));
    expect(strip(rendered)).toEqual(strip(source));
    expect(() => renderExample(source, { port: 1, upstreams: ['127.0.0.1:1'], accessLog: '/tmp/a.log' })).toThrow(/expected 1 upstream server lines, found 3/);
  });
});

describe.runIf(REDIS_OK && NGINX_OK)('nginx in front of three instances (deploy/nginx.conf)', () => {
  let redis: RedisProcess;
  const prefix = `lb${process.pid}-${Date.now()}:`;
  const instances: ServeProcess[] = [];
  /** server_id → its process. */
  const byId = new Map<string, ServeProcess>();
  let nginx: NginxProcess;

  beforeAll(async () => {
    ensureBuilt();
    redis = await new RedisProcess().start();
    await Promise.all(
      [1, 2, 3].map(async () => {
        instances.push(await ServeProcess.start(['--redis', redis.url, '--prefix', prefix, '--drain-timeout', '1s', '--reap-after', '5s']));
      }),
    );
    for (const p of instances) {
      const health = (await (await fetch(`${p.httpUrl}/health`)).json()) as { server_id: string };
      byId.set(health.server_id, p);
    }
    expect(byId.size).toBe(3);
    nginx = new NginxProcess(instances.map((p) => `127.0.0.1:${p.port}`));
    await nginx.start();
  }, 60_000);

  afterAll(async () => {
    await nginx?.stop();
    await Promise.all(instances.map((p) => p.kill()));
    await redis?.stop();
  }, 30_000);

  beforeEach(({ onTestFailed }) => {
    onTestFailed(() => {
      console.error(`--- nginx error log ---\n${nginx?.errorLog()}\n--- nginx access log ---\n${nginx?.accessLog()}`);
    });
  });

  /** Connects through nginx (alternating `/` and `/ws`: any path is the WebSocket endpoint) and registers. */
  let pathTurn = 0;
  const join = (register: Record<string, unknown>): Promise<Peer> =>
    registeredPeer(`${nginx.url}${pathTurn++ % 2 === 0 ? '/' : '/ws'}`, register);

  const health = async (base: string): Promise<{ status: number; serverId: string | null }> => {
    try {
      const res = await fetch(`${base}/health`, { signal: AbortSignal.timeout(5000) });
      const body = (await res.json().catch(() => ({}))) as { server_id?: string };
      return { status: res.status, serverId: body.server_id ?? null };
    } catch {
      return { status: -1, serverId: null };
    }
  };

  const serverOf = (peer: Peer) => peer.registered.server_id as string;
  const peerId = (peer: Peer) => peer.registered.peer_id as string;

  it('spreads clients over all three instances; registration, discovery, relays and presence work across them', async () => {
    const room = freshRoom('lb');
    const peers: Peer[] = [];
    for (let i = 0; i < 6; i++) {
      peers.push(
        await join({ room_id: room, peer_id: `p${i}`, role: i === 0 ? 'worker' : 'client', presence: true, metadata: { tags: [`n${i}`], properties: { n: i } } }),
      );
    }
    // least_conn over three idle instances: every one of them got clients.
    const used = peers.map(serverOf);
    expect(used.every((id) => byId.has(id))).toBe(true);
    expect(new Set(used).size).toBe(3);
    expect(peers[5]!.registered.peer_list).toEqual(['p0', 'p1', 'p2', 'p3', 'p4']);

    // Presence: p0 was told about every later peer, wherever it landed.
    const joined: string[] = [];
    for (let i = 1; i < 6; i++) joined.push((await peers[0]!.client.next('peer_joined', 10_000)).peer_id as string);
    expect(joined).toEqual(['p1', 'p2', 'p3', 'p4', 'p5']);

    // Two peers on different instances.
    const a = peers[0]!;
    const b = peers.find((p) => serverOf(p) !== serverOf(a))!;
    const c = peers.find((p) => serverOf(p) !== serverOf(a) && serverOf(p) !== serverOf(b))!;
    expect(b).toBeDefined();
    expect(c).toBeDefined();

    // Discovery with filters sees peers on every instance.
    const found = await a.client.request({ type: 'discover_peers', filters: { role: 'client', properties: { n: { $gte: 3 } } } }, 'peer_list', 10_000);
    expect(found.count).toBe(3);
    expect((found.peers as { peer_id: string }[]).map((p) => p.peer_id)).toEqual(['p3', 'p4', 'p5']);

    // peer_message both ways across instances.
    a.client.send({ type: 'peer_message', to_peer_id: peerId(b), payload: { job: 'train' } });
    expect(await b.client.next('peer_message', 10_000)).toEqual({ type: 'peer_message', from_peer_id: 'p0', to_peer_id: peerId(b), payload: { job: 'train' } });
    b.client.send({ type: 'peer_message', to_peer_id: 'p0', payload: null });
    expect(await a.client.next('peer_message', 10_000)).toEqual({ type: 'peer_message', from_peer_id: peerId(b), to_peer_id: 'p0', payload: null });

    // Offer / answer / candidate across instances, passed through with the sender stamped.
    a.client.send({ type: 'offer', target: peerId(c), sdp: 'v=0 offer', role: 'client' });
    expect(await c.client.next('offer', 10_000)).toEqual({ type: 'offer', target: peerId(c), sdp: 'v=0 offer', role: 'client', sender: 'p0' });
    c.client.send({ type: 'answer', target: 'p0', sdp: 'v=0 answer' });
    expect(await a.client.next('answer', 10_000)).toEqual({ type: 'answer', target: 'p0', sdp: 'v=0 answer', sender: peerId(c) });
    a.client.send({ type: 'candidate', target: peerId(c), candidate: 'candidate:1 1 udp 1 10.0.0.1 9 typ host' });
    expect((await c.client.next('candidate', 10_000)).sender).toBe('p0');

    // Errors come back through the proxy too.
    const missing = await a.client.request({ type: 'peer_message', to_peer_id: 'nobody', payload: 1 }, 'never', 10_000);
    expect(missing).toMatchObject({ type: 'error', code: 'PEER_NOT_FOUND', request_type: 'peer_message' });

    // update_metadata on one instance, seen as peer_updated on the others; leave as peer_left.
    a.client.drain();
    b.client.drain();
    const updated = await c.client.request({ type: 'update_metadata', metadata: { properties: { busy: true } } }, 'metadata_updated', 10_000);
    const k = Number(peerId(c).slice(1));
    expect(updated.metadata).toEqual({ tags: [`n${k}`], properties: { n: k, busy: true } });
    for (const watcher of [a, b]) {
      expect(await watcher.client.next('peer_updated', 10_000)).toMatchObject({ type: 'peer_updated', peer_id: peerId(c), metadata: updated.metadata });
    }
    expect((await c.client.request({ type: 'leave' }, 'left', 10_000)).type).toBe('left');
    for (const watcher of [a, b]) {
      expect(await watcher.client.next('peer_left', 10_000)).toEqual({ type: 'peer_left', peer_id: peerId(c), reason: 'left' });
    }
    expect((await a.client.request({ type: 'ping' }, 'pong', 10_000)).type).toBe('pong');
  }, 60_000);

  it('passes `sleap-signal smoke` through nginx', async () => {
    const r = await runCli(['smoke', '--url', nginx.url, '--timeout', '10s', '--json'], { timeoutMs: 60_000 });
    expect(r.stderr).toBe('');
    const result = JSON.parse(r.stdout) as { ok: boolean; steps: { name: string; ok: boolean }[] };
    expect(result.steps.filter((s) => !s.ok)).toEqual([]);
    expect(result.ok).toBe(true);
    expect(r.code).toBe(0);
  }, 60_000);

  // Last in this file: it leaves two instances running.
  it('drains one instance: /health through nginx stays 200, its clients get 1012 and reconnect through nginx to the others', async () => {
    const room = freshRoom('lb-drain');
    const peers: Peer[] = [];
    for (let i = 0; i < 6; i++) peers.push(await join({ room_id: room, peer_id: `d${i}`, presence: true, metadata: { properties: { i } } }));
    const victimId = serverOf(peers[0]!);
    const victim = byId.get(victimId)!;
    const survivors = [...byId.keys()].filter((id) => id !== victimId);
    const movers = peers.filter((p) => serverOf(p) === victimId);
    const stayers = peers.filter((p) => serverOf(p) !== victimId);
    expect(movers.length).toBeGreaterThan(0);
    expect(stayers.length).toBeGreaterThan(0);
    // Everyone has heard about everyone who came later; start the drain with empty queues. (A peer
    // may also hear of one that came just before it: a join is announced after its registered
    // reply, and on a busy machine the next peer can be in before that announcement goes out.)
    const heardOf = (p: Peer) => new Set(p.client.received.filter((m) => m.type === 'peer_joined').map((m) => m.peer_id));
    await eventually(
      () => peers.map((p, i) => peers.slice(i + 1).every((later) => heardOf(p).has(peerId(later)))),
      (ok) => ok.every(Boolean),
      10_000,
    );
    peers.forEach((p) => p.client.drain());

    // /health through nginx, sampled all along the drain and after the instance is gone.
    const samples: { at: number; status: number; serverId: string | null }[] = [];
    let sampling = true;
    const sampler = (async () => {
      while (sampling) {
        samples.push({ at: Date.now(), ...(await health(nginx.httpUrl)) });
        await new Promise((r) => setTimeout(r, 25));
      }
    })();

    victim.signal('SIGTERM');
    // The instance itself says 503 while it drains...
    await eventually(() => health(victim.httpUrl), (h) => h.status === 503, 5000, 10);
    const seenDrainingAt = Date.now();
    // ...while nginx still answers 200 (from another instance): passive checks skip a 503.
    const probe = { at: Date.now(), ...(await health(nginx.httpUrl)) };
    samples.push(probe);
    expect(probe).toMatchObject({ status: 200 });
    expect(survivors).toContain(probe.serverId);

    // ...its clients get 1012 (spread over --drain-timeout 1s) and reconnect through nginx, with
    // their session token, to another instance. A reconnect that reaches the draining instance
    // gets 503 from it, which nginx retries on the next one (proxy_next_upstream http_503).
    const moved = await Promise.all(
      movers.map(async (m) => {
        const closed = await m.client.closed;
        expect(closed.code).toBe(1012);
        const back = await join({
          room_id: room,
          peer_id: peerId(m),
          presence: true,
          session_token: m.registered.session_token,
          metadata: { properties: { i: Number(peerId(m).slice(1)), moved: true } },
        });
        expect(back.registered.type).toBe('registered');
        return back;
      }),
    );
    for (const back of moved) expect(survivors).toContain(serverOf(back));
    expect(await victim.exited).toBe(0);
    const exitedAt = Date.now();

    // Stayers were told each mover left (server_shutdown) and came back; or, when the reconnect took
    // the id over before the drained instance had removed the peer, that the peer changed in place.
    for (const s of stayers) {
      for (const m of movers) {
        const isBack = (msg: ServerMessage) =>
          (msg.type === 'peer_joined' || msg.type === 'peer_updated') &&
          msg.peer_id === peerId(m) &&
          (msg.metadata as { properties?: { moved?: boolean } } | undefined)?.properties?.moved === true;
        const back = await s.client.next(isBack, 10_000);
        const left = s.client.received.filter((msg) => msg.type === 'peer_left' && msg.peer_id === peerId(m));
        for (const l of left) expect(l).toEqual({ type: 'peer_left', peer_id: peerId(m), reason: 'server_shutdown' });
        if (back.type === 'peer_joined') expect(left.length).toBeGreaterThan(0);
      }
    }

    // Everything keeps working: discovery, relays and offer/answer between moved and staying peers.
    const everyone = [...stayers, ...moved];
    const mover = moved[0]!;
    const stayer = stayers[0]!;
    const list = await mover.client.request({ type: 'discover_peers' }, 'peer_list', 10_000);
    expect(list.count).toBe(5);
    expect((list.peers as { peer_id: string }[]).map((p) => p.peer_id).sort()).toEqual(
      everyone.map(peerId).filter((id) => id !== peerId(mover)).sort(),
    );
    mover.client.send({ type: 'peer_message', to_peer_id: peerId(stayer), payload: 'after the move' });
    expect((await stayer.client.next('peer_message', 10_000)).from_peer_id).toBe(peerId(mover));
    stayer.client.send({ type: 'offer', target: peerId(mover), sdp: 'v=0 again' });
    expect(await mover.client.next('offer', 10_000)).toMatchObject({ sender: peerId(stayer), sdp: 'v=0 again' });
    mover.client.send({ type: 'answer', target: peerId(stayer), sdp: 'v=0 answer again' });
    expect(await stayer.client.next('answer', 10_000)).toMatchObject({ sender: peerId(mover) });

    // New clients land on the two survivors only.
    for (let i = 0; i < 4; i++) {
      const late = await join({ room_id: room, peer_id: `late${i}` });
      expect(survivors).toContain(serverOf(late));
    }
    const plain = await connect(`${nginx.url}/`);
    expect((await plain.request({ type: 'ping' }, 'pong', 10_000)).type).toBe('pong');

    // Keep sampling /health a little longer with the instance down, then check every sample.
    await new Promise((r) => setTimeout(r, 500));
    sampling = false;
    await sampler;
    const during = samples.filter((s) => s.at >= seenDrainingAt && s.at < exitedAt);
    const after = samples.filter((s) => s.at >= exitedAt);
    expect(samples.filter((s) => s.status !== 200)).toEqual([]);
    expect(during.length).toBeGreaterThan(0);
    expect(after.length).toBeGreaterThan(0);
    // A request sent once the instance was draining never got its answer from it.
    expect(samples.filter((s) => s.at >= seenDrainingAt && s.serverId === victimId)).toEqual([]);
    // nginx noticed (passive health check): the instance was marked failed and skipped.
    const disabled = nginx.errorLog().split('\n').filter((l) => l.includes('upstream server temporarily disabled'));
    expect(disabled.some((l) => l.includes(`127.0.0.1:${victim.port}`)), nginx.errorLog()).toBe(true);

    // The smoke check still passes with one instance down.
    const smoke = await runCli(['smoke', '--url', nginx.url, '--timeout', '10s', '--json'], { timeoutMs: 60_000 });
    expect(smoke.code, smoke.stdout + smoke.stderr).toBe(0);
  }, 60_000);
});

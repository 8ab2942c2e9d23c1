import { spawnSync } from 'node:child_process';
import { afterEach, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { PeerClient, type PeerClientEvents, type PeerClientOptions } from '../../src/client/peer-client.js';
import { ROOT } from '../cli/cli-helpers.js';
import { blackHole } from '../helpers/net.js';
import { freshRoom, registeredPeer, startServer } from '../helpers/harness.js';
import { tcpProxy } from './tcp-proxy.js';

/** The browser-safe client library, driven from Node with the `ws` package. */

const clients: PeerClient[] = [];
const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  clients.splice(0).forEach((c) => c.close());
  await Promise.all(cleanups.splice(0).map((f) => f()));
});

function client(url: string, register: PeerClientOptions['register'], extra: Partial<PeerClientOptions> = {}): PeerClient {
  const c = new PeerClient({ url, WebSocket, register, timeoutMs: 5000, ...extra });
  clients.push(c);
  return c;
}

/** The next `name` event of `c`. */
function nextEvent<K extends keyof PeerClientEvents>(c: PeerClient, name: K, timeoutMs = 5000): Promise<PeerClientEvents[K]> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no ${name} event within ${timeoutMs} ms`)), timeoutMs);
    const off = c.on(name, (e) => {
      clearTimeout(timer);
      off();
      resolve(e);
    });
  });
}

describe('PeerClient', () => {
  it('registers, discovers with filters, hears presence, relays and passes peer messages', async () => {
    const server = await startServer();
    const room = freshRoom('lib');
    const worker = client(server.url, { room_id: room, peer_id: 'w', role: 'worker', metadata: { tags: ['gpu'], properties: { mem: 24 } } });
    expect((await worker.connect()).ok).toBe(true);
    const me = client(server.url, { room_id: room, role: 'client', presence: true });
    const registered = await me.connect();
    if (!registered.ok) throw new Error(registered.error.message);
    expect(registered.value.peer_list).toEqual(['w']);
    expect(me.peerId).toMatch(/^peer-/);
    expect(me.status).toBe('registered');

    const found = await me.discover({ role: 'worker', properties: { mem: { $gte: 16 } } });
    expect(found.ok && found.value.map((p) => p.peer_id)).toEqual(['w']);
    expect(await me.discover({ role: 'nobody' })).toEqual({ ok: true, value: [] });

    const joined = nextEvent(me, 'peer_joined');
    const x = client(server.url, { room_id: room, peer_id: 'x' });
    await x.connect();
    expect((await joined).peer_id).toBe('x');
    const updated = nextEvent(me, 'peer_updated');
    expect(await x.updateMetadata({ tags: ['cpu'] })).toEqual({ ok: true, value: { tags: ['cpu'] } });
    expect((await updated).metadata).toEqual({ tags: ['cpu'] });
    const left = nextEvent(me, 'peer_left');
    x.close();
    expect(await left).toMatchObject({ peer_id: 'x', reason: 'left' });

    const offer = nextEvent(worker, 'offer');
    expect(me.relay('offer', 'w', { sdp: 'v=0' })).toEqual({ ok: true, value: undefined });
    expect(await offer).toEqual({ type: 'offer', target: 'w', sdp: 'v=0', sender: me.peerId });
    const message = nextEvent(me, 'peer_message');
    worker.sendToPeer(me.peerId!, { hello: [1, 2] });
    expect(await message).toMatchObject({ from_peer_id: 'w', payload: { hello: [1, 2] } });

    // A relay has no reply; its failure comes back as an error event naming the relay.
    const failed = nextEvent(me, 'error');
    me.relay('candidate', 'ghost', { candidate: null });
    expect(await failed).toMatchObject({ code: 'PEER_NOT_FOUND', request_type: 'candidate' });

    expect((await me.ping()).ok).toBe(true);
    expect(await me.leave()).toMatchObject({ ok: true, value: { type: 'left' } });
  });

  it('answers with errors as values: a refused registration, a dead address, a call before connect', async () => {
    const server = await startServer({ limits: { maxPeersPerRoom: 1 } });
    const room = freshRoom('lib');
    await client(server.url, { room_id: room }).connect();
    const second = client(server.url, { room_id: room });
    expect(await second.discover()).toMatchObject({ ok: false, error: { code: 'NOT_CONNECTED' } });
    expect(await second.connect()).toMatchObject({ ok: false, error: { code: 'ROOM_FULL' } });
    expect(second.status).toBe('closed');
    expect(second.send({ type: 'ping' })).toMatchObject({ ok: false, error: { code: 'NOT_CONNECTED' } });

    const hole = await blackHole();
    cleanups.push(hole.close);
    const silent = client(`ws://127.0.0.1:${hole.port}`, { room_id: room }, { timeoutMs: 300 });
    expect(await silent.connect()).toMatchObject({ ok: false, error: { code: 'CONNECT_FAILED' } });
  });

  it('takes registered_auth from a compat-mode server', async () => {
    const server = await startServer({ compat: 'sleap-rtc' });
    const r = await client(server.url, { room_id: freshRoom('lib'), peer_id: 'w' }).connect();
    expect(r).toMatchObject({ ok: true, value: { type: 'registered_auth', peer_id: 'w' } });
  });

  it('reconnects after a network cut, backing off, as the same peer proved by its session token', async () => {
    const server = await startServer();
    const proxy = await tcpProxy(server.address.port);
    cleanups.push(proxy.close);
    const room = freshRoom('lib');
    const me = client(proxy.url, { room_id: room, role: 'client' }, { reconnect: { initialDelayMs: 50, maxDelayMs: 400, jitter: 0 } });
    const first = await me.connect();
    if (!first.ok) throw new Error(first.error.message);
    const other = await registeredPeer(server, { room_id: room, peer_id: 'w' });

    const attempts: PeerClientEvents['reconnecting'][] = [];
    me.on('reconnecting', (e) => attempts.push(e));
    const disconnected = nextEvent(me, 'disconnected');
    const back = nextEvent(me, 'registered', 10_000);
    proxy.refuse(3);
    // Only the client side goes: the server still holds the old connection, so coming back is a
    // takeover, which the session token proves.
    proxy.cut();
    expect(await disconnected).toMatchObject({ code: 1006, willReconnect: true });
    const again = await back;
    expect(again.reconnected).toBe(true);
    expect(again.message.peer_id).toBe(first.value.peer_id);
    expect(again.message.session_token).toBe(first.value.session_token); // kept by a token-proved takeover
    expect(attempts).toEqual([
      { attempt: 1, delayMs: 50 },
      { attempt: 2, delayMs: 100 },
      { attempt: 3, delayMs: 200 },
      { attempt: 4, delayMs: 400 },
    ]);
    expect(me.status).toBe('registered');

    const delivered = nextEvent(me, 'peer_message');
    other.client.send({ type: 'peer_message', to_peer_id: first.value.peer_id, payload: 'after' });
    expect((await delivered).payload).toBe('after');
  });

  it('does not come back once replaced by another connection (4002)', async () => {
    const server = await startServer();
    const room = freshRoom('lib');
    const me = client(server.url, { room_id: room, peer_id: 'p' }, { reconnect: { initialDelayMs: 20 } });
    const first = await me.connect();
    if (!first.ok) throw new Error(first.error.message);
    const disconnected = nextEvent(me, 'disconnected');
    await registeredPeer(server, { room_id: room, peer_id: 'p', session_token: first.value.session_token });
    expect(await disconnected).toMatchObject({ code: 4002, willReconnect: false });
    expect(me.status).toBe('closed');
  });
});

describe('the package', () => {
  it('exports the built client as sleap-signal/client', () => {
    const script = "const m = await import('sleap-signal/client'); console.log(typeof m.PeerClient, typeof m.backoffDelay)";
    const run = spawnSync(process.execPath, ['--input-type=module', '-e', script], { cwd: ROOT, encoding: 'utf8' });
    expect(run.stderr).toBe('');
    expect(run.stdout.trim()).toBe('function function');
  });
});

import { describe, expect, it } from 'vitest';
import { startServer } from '../helpers/harness.js';
import { freePort } from '../helpers/redis-process.js';
import type { SignalingServer } from '../../src/server/signaling-server.js';
import type { SignalClient } from '../../src/client/signal-client.js';
import {
  claims,
  dial,
  expectAlive,
  expectClosed,
  expectIntact,
  freshRoom,
  http,
  ids,
  legit,
  OPERATOR,
  portOf,
  sign,
  signingKey,
  sleep,
  useJwks,
  WAIT,
  type DialOptions,
} from './support.js';

/**
 * Abuse resistance at the door: browser origins (1008), connections per address and in total
 * (1013), the metrics token, the admin port, and who may kick peers.
 */

const jwks = useJwks();

async function waitForConnections(server: SignalingServer, n: number): Promise<void> {
  const deadline = Date.now() + WAIT;
  while (server.connectionCount !== n && Date.now() < deadline) await sleep(10);
  expect(server.connectionCount).toBe(n);
}

/** Opens a connection that should be refused, registers on it at once, and expects the close `code`. */
async function expectRefused(server: SignalingServer, options: DialOptions, code: number, room: string, peerId: string): Promise<void> {
  const client = await dial(server, options);
  client.send({ type: 'register', room_id: room, peer_id: peerId });
  await expectClosed(client, code);
}

describe('allowed origins', () => {
  it('an upgrade from another Origin is closed 1008; the allowed Origin and no Origin work', async () => {
    const server = await startServer({ allowedOrigins: ['https://app.example'] });
    const room = freshRoom();
    const fromApp = await legit(server, { room_id: room, peer_id: 'app' }, { origin: 'https://app.example' });
    const native = await legit(server, { room_id: room, peer_id: 'native' });

    for (const origin of ['https://evil.example', 'http://app.example', 'https://app.example.evil.example', 'https://app.example:8443', 'null']) {
      await expectRefused(server, { origin }, 1008, room, `evil-${origin.length}`);
    }
    await waitForConnections(server, 2);
    await expectIntact(native.client, { client: fromApp.client, peerId: 'app' }, ['app']);
    await expectAlive(native.client);
  });

  it('a valid credential does not excuse a disallowed Origin', async () => {
    const server = await startServer({ auth: 'jwt', jwt: jwks.config(), allowedOrigins: ['https://app.example'] });
    const room = freshRoom();
    const observer = await legit(server, { room_id: room, peer_id: 'observer', jwt: await jwks.token('o') });
    await expectRefused(server, { origin: 'https://evil.example', bearer: await jwks.token('alice') }, 1008, room, 'alice');
    await legit(server, { room_id: room, peer_id: 'alice' }, { origin: 'https://app.example', bearer: await jwks.token('alice') });
    expect(await ids(observer.client)).toEqual(['alice']);
  });
});

describe('connection limits', () => {
  it('maxConnectionsPerIp 3: the 4th connection from 127.0.0.1 is closed 1013, the first three keep working', async () => {
    const server = await startServer({ maxConnectionsPerIp: 3 });
    const room = freshRoom();
    const peers: SignalClient[] = [];
    for (let i = 0; i < 3; i++) peers.push((await legit(server, { room_id: room, peer_id: `p${i}` })).client);

    await expectRefused(server, {}, 1013, room, 'fourth');
    await expectRefused(server, { path: '/ws' }, 1013, room, 'fifth');
    await waitForConnections(server, 3);
    for (const [i, c] of peers.entries()) {
      await expectAlive(c);
      expect(await ids(c)).toEqual(['p0', 'p1', 'p2'].filter((p) => p !== `p${i}`));
    }
    peers[0]!.send({ type: 'peer_message', to_peer_id: 'p2', payload: 'still here' });
    expect((await peers[2]!.next('peer_message', WAIT)).payload).toBe('still here');

    // A closed connection frees its slot.
    await peers[1]!.close();
    await waitForConnections(server, 2);
    await legit(server, { room_id: room, peer_id: 'p3' });
    expect(await ids(peers[0]!)).toEqual(['p2', 'p3']);
  });

  it('the per-address limit counts each address on its own', async () => {
    const server = await startServer({ maxConnectionsPerIp: 1 });
    const room = freshRoom();
    const first = await legit(server, { room_id: room, peer_id: 'a' }, { localAddress: '127.0.0.1' });
    await expectRefused(server, { localAddress: '127.0.0.1' }, 1013, room, 'a2');
    const other = await legit(server, { room_id: room, peer_id: 'b' }, { localAddress: '127.0.0.2' });
    expect(await ids(other.client)).toEqual(['a']);
    await expectAlive(first.client);
  });

  it('X-Forwarded-For does not evade the per-address limit when the proxy is not trusted', async () => {
    const server = await startServer({ maxConnectionsPerIp: 1 });
    const room = freshRoom();
    const first = await legit(server, { room_id: room, peer_id: 'a' }, { headers: { 'x-forwarded-for': '198.51.100.1' } });
    await expectRefused(server, { headers: { 'x-forwarded-for': '198.51.100.2' } }, 1013, room, 'spoofed');
    await expectIntact(first.client, { client: first.client, peerId: 'a' }, []);
  });

  it('behind a trusted proxy the last X-Forwarded-For hop counts: entries a client prepends do not evade the limit', async () => {
    const server = await startServer({ maxConnectionsPerIp: 1, trustProxy: true });
    const room = freshRoom();
    const a = await legit(server, { room_id: room, peer_id: 'a' }, { headers: { 'x-forwarded-for': '203.0.113.9, 198.51.100.7' } });
    await expectRefused(server, { headers: { 'x-forwarded-for': '203.0.113.10, 198.51.100.7' } }, 1013, room, 'spoofed');
    const b = await legit(server, { room_id: room, peer_id: 'b' }, { headers: { 'x-forwarded-for': '198.51.100.8' } });
    expect(await ids(b.client)).toEqual(['a']);
    await expectAlive(a.client);
  });

  it('maxConnections 2: the 3rd connection is closed 1013, the first two keep working', async () => {
    const server = await startServer({ maxConnections: 2 });
    const room = freshRoom();
    const a = await legit(server, { room_id: room, peer_id: 'a' });
    const b = await legit(server, { room_id: room, peer_id: 'b' });
    await expectRefused(server, { localAddress: '127.0.0.3' }, 1013, room, 'c');
    await waitForConnections(server, 2);
    await expectIntact(a.client, { client: b.client, peerId: 'b' }, ['b']);
  });
});

describe('metrics token', () => {
  it('GET /metrics is 401 without the token or with a wrong one, 200 with Authorization: Bearer <token>', async () => {
    const server = await startServer({ metricsToken: 'metrics-secret' });
    const port = portOf(server);
    expect((await http(port, 'GET', '/metrics')).status).toBe(401);
    expect((await http(port, 'GET', '/metrics', { bearer: 'wrong' })).status).toBe(401);
    const denied = await http(port, 'GET', '/metrics', { bearer: 'metrics-secret-' });
    expect(denied.status).toBe(401);
    expect(denied.text).not.toMatch(/^# (HELP|TYPE) /m);
    const ok = await http(port, 'GET', '/metrics', { bearer: 'metrics-secret' });
    expect(ok.status).toBe(200);
    expect(ok.text).toMatch(/^# (HELP|TYPE) /m);
    // /health stays open.
    expect((await http(port, 'GET', '/health')).status).toBe(200);
  });
});

describe('admin port', () => {
  it('moves /metrics and the operator endpoints off the main port (404 there), and they work on the admin port', async () => {
    const adminPort = await freePort();
    const server = await startServer({ adminPort, auth: 'keys', operatorToken: OPERATOR, metricsToken: 'metrics-secret' });
    expect(server.adminAddress?.port).toBe(adminPort);
    const main = portOf(server);
    const room = freshRoom();

    // On the main port they do not exist, with or without tokens.
    for (const bearer of [undefined, OPERATOR, 'metrics-secret']) {
      const auth = bearer ? { bearer } : {};
      expect((await http(main, 'GET', '/metrics', auth)).status).toBe(404);
      expect((await http(main, 'POST', '/delete-peer', { body: { peer_id: 'x' }, ...auth })).status).toBe(404);
      expect((await http(main, 'POST', '/delete-peers-and-room', { body: { room_id: room }, ...auth })).status).toBe(404);
      expect((await http(main, 'POST', '/admin/keys', { body: { room_id: room, name: 'n' }, ...auth })).status).toBe(404);
      expect((await http(main, 'GET', '/admin/keys', auth)).status).toBe(404);
      expect((await http(main, 'POST', '/admin/keys/revoke', { body: { id: 'ffffffffffff' }, ...auth })).status).toBe(404);
    }

    // On the admin port they work, behind their tokens.
    expect((await http(adminPort, 'GET', '/metrics')).status).toBe(401);
    expect((await http(adminPort, 'GET', '/metrics', { bearer: 'metrics-secret' })).status).toBe(200);
    expect((await http(adminPort, 'POST', '/admin/keys', { body: { room_id: room, name: 'n' } })).status).toBe(401);
    const created = await http(adminPort, 'POST', '/admin/keys', { body: { room_id: room, name: 'n' }, bearer: OPERATOR });
    expect(created.status, created.text).toBe(200);
    const key = created.body.key as string;

    // The WebSocket endpoint stays on the main port.
    const observer = await legit(server, { api_key: key, peer_id: 'observer' });
    const victim = await legit(server, { api_key: key, peer_id: 'victim' });
    expect((await http(adminPort, 'POST', '/delete-peer', { body: { peer_id: 'victim' } })).status).toBe(401);
    await expectIntact(observer.client, { client: victim.client, peerId: 'victim' }, ['victim']);
    const kicked = await http(adminPort, 'POST', '/delete-peer', { body: { peer_id: 'victim' }, bearer: OPERATOR });
    expect(kicked.status, kicked.text).toBe(200);
    await expectClosed(victim.client, 1000);
    expect(await ids(observer.client)).toEqual([]);
    expect((await http(main, 'GET', '/health')).status).toBe(200);
  });

  it('/create-room is served on the main port (for users) and on the admin port (for operators)', async () => {
    const adminPort = await freePort();
    const server = await startServer({ adminPort, rooms: 'token' });
    const onAdmin = await http(adminPort, 'POST', '/create-room', { body: { room_id: freshRoom() } });
    expect(onAdmin.status, onAdmin.text).toBe(200);
    const created = await http(portOf(server), 'POST', '/create-room', { body: { room_id: freshRoom() } });
    expect(created.status, created.text).toBe(200);
  });
});

describe('operator endpoints with authentication on', () => {
  it('POST /delete-peer: no bearer, a wrong token or a forged JWT is 401, another user\'s valid JWT 403, and change nothing; the operator token works', async () => {
    const server = await startServer({ auth: 'jwt', jwt: jwks.config(), operatorToken: OPERATOR });
    const port = portOf(server);
    const room = freshRoom();
    const observer = await legit(server, { room_id: room, peer_id: 'observer', jwt: await jwks.token('o') });
    const victim = await legit(server, { room_id: room, peer_id: 'victim', jwt: await jwks.token('v') });
    const second = await legit(server, { room_id: room, peer_id: 'second', jwt: await jwks.token('s') });

    const refused = [
      undefined,
      'wrong',
      `${OPERATOR}x`,
      await sign(await signingKey('RS256', jwks.rsa.kid), claims('o')),
      await jwks.token('o', { exp: Math.floor(Date.now() / 1000) - 600 }),
      'slp_ffffffffffff_abcdefghijklmnopqrstuvwx',
    ];
    for (const bearer of refused) {
      const auth = bearer !== undefined ? { bearer } : {};
      const res = await http(port, 'POST', '/delete-peer', { body: { peer_id: 'victim' }, ...auth });
      expect(res.status, `${bearer}: ${res.text}`).toBe(401);
      const room404 = await http(port, 'POST', '/delete-peers-and-room', { body: { room_id: room }, ...auth });
      expect(room404.status).toBe(401);
    }
    await expectIntact(observer.client, { client: victim.client, peerId: 'victim' }, ['second', 'victim']);
    expect(victim.client.closeCode).toBeNull();

    const byOperator = await http(port, 'POST', '/delete-peer', { body: { peer_id: 'victim' }, bearer: OPERATOR });
    expect(byOperator.status, byOperator.text).toBe(200);
    expect(byOperator.body).toEqual({ deleted: 'victim', room_id: room });
    await expectClosed(victim.client, 1000);
    expect(await ids(observer.client)).toEqual(['second']);

    // A valid credential is not enough (issue 12): only the operator token or the room's creator
    // may kick, and an open room has no creator.
    const byUser = await http(port, 'POST', '/delete-peer', { body: { peer_id: 'second' }, bearer: await jwks.token('o') });
    expect(byUser.status, byUser.text).toBe(403);
    const roomByUser = await http(port, 'POST', '/delete-peers-and-room', { body: { room_id: room }, bearer: await jwks.token('o') });
    expect(roomByUser.status, roomByUser.text).toBe(403);
    await expectIntact(observer.client, { client: second.client, peerId: 'second' }, ['second']);
  });
});

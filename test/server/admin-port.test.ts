import { connect as tcpConnect } from 'node:net';
import { describe, expect, it } from 'vitest';
import { HttpAdmin } from '../../src/admin/admin-target.js';
import type { SignalingServer } from '../../src/server/signaling-server.js';
import { freshRoom, registeredPeer, startServer } from '../helpers/harness.js';
import { freePort } from '../helpers/net.js';

/**
 * Issue 12, finding 5: with `--admin-port`, the admin listener serves every operator route the
 * main port would (room creation included, so `room create --url <admin>` works), and cuts a
 * request that never completes, like the main port does.
 */

const OPERATOR = 'operator-secret-token-0123456789';

async function call(port: number, method: 'GET' | 'POST', path: string, body?: unknown): Promise<{ status: number; text: string }> {
  const res = await fetch(`http://127.0.0.1:${port}${path}`, {
    method,
    headers: { authorization: `Bearer ${OPERATOR}`, 'content-type': 'application/json' },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    signal: AbortSignal.timeout(5000),
  });
  return { status: res.status, text: await res.text() };
}

/** The operator requests, each once (ids fresh per server so that both servers answer alike). */
function operatorRequests(): Array<[method: 'GET' | 'POST', path: string, body?: Record<string, unknown>]> {
  return [
    ['GET', '/metrics'],
    ['POST', '/create-room', { room_id: freshRoom(), expires_in: 60 }],
    ['POST', '/delete-peer', { peer_id: 'nobody' }],
    ['POST', '/delete-peers-and-room', { room_id: freshRoom() }],
    ['POST', '/admin/keys', { room_id: 'lab', name: 'n' }],
    ['GET', '/admin/keys'],
    ['POST', '/admin/keys/revoke', { id: 'ffffffffffff' }],
  ];
}

describe('admin port', () => {
  it('answers every operator request as a single-port server does', async () => {
    const single = await startServer({ rooms: 'token', auth: 'keys', operatorToken: OPERATOR });
    const adminPort = await freePort();
    const split = await startServer({ rooms: 'token', auth: 'keys', operatorToken: OPERATOR, adminPort });
    const expected = await Promise.all(operatorRequests().map(([m, p, b]) => call(single.address.port, m, p, b).then((r) => `${m} ${p} ${r.status}`)));
    const got = await Promise.all(operatorRequests().map(([m, p, b]) => call(adminPort, m, p, b).then((r) => `${m} ${p} ${r.status}`)));
    expect(got).toEqual(expected);
    expect(got).toContain('POST /create-room 200');
  });

  it('room create --url <admin port> makes a room whose token works on the main port; the main port still creates rooms too', async () => {
    const adminPort = await freePort();
    const server: SignalingServer = await startServer({ rooms: 'token', operatorToken: OPERATOR, adminPort });
    const target = new HttpAdmin(`http://127.0.0.1:${adminPort}`, OPERATOR);
    const room = freshRoom('lab');
    const created = await target.createRoom(room, 60);
    expect(created.room_id).toBe(room);
    const peer = await registeredPeer(server, { room_id: room, peer_id: 'a', token: created.token });
    expect(peer.registered.room_id).toBe(room);
    const main = await call(server.address.port, 'POST', '/create-room', { room_id: freshRoom('main') });
    expect(main.status, main.text).toBe(200);
  });

  it('closes a connection that sends a partial request line within the request timeout', async () => {
    const adminPort = await freePort();
    await startServer({ adminPort, handshakeTimeoutMs: 500 });
    const socket = tcpConnect(adminPort, '127.0.0.1');
    socket.on('error', () => {});
    socket.resume(); // read whatever the server answers (a 408), so that its close is seen
    const started = Date.now();
    await new Promise<void>((resolve) => socket.once('connect', () => resolve()));
    socket.write('GET /metrics HT');
    const closed = await Promise.race([
      new Promise<number>((resolve) => socket.once('close', () => resolve(Date.now() - started))),
      new Promise<null>((resolve) => setTimeout(() => resolve(null), 10_000)),
    ]);
    socket.destroy();
    // Node's defaults would hold it for a minute or more; 10 s leaves room for a busy machine.
    expect(closed, 'the admin port kept a slowloris connection open for 10 s').not.toBeNull();
    expect(closed!).toBeGreaterThanOrEqual(400);
  });
});

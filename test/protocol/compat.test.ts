import { describe, expect, it } from 'vitest';
import { startServer } from '../helpers/harness.js';
import type { SignalingServer } from '../../src/server/signaling-server.js';
import {
  discoverIds,
  expectError,
  expectMessage,
  expectNothing,
  freshRoom,
  open,
  peer,
  register,
  type SignalClient,
  waitForConnections,
} from './support.js';

const compatServer = () => startServer({ compat: 'sleap-rtc' });
const compatPeer = (server: SignalingServer, fields: Record<string, unknown>) => peer(server, fields, 'registered_auth');

async function compatPair(): Promise<{ server: SignalingServer; a: SignalClient; b: SignalClient; far: SignalClient }> {
  const server = await compatServer();
  const room = freshRoom();
  const a = await compatPeer(server, { room_id: room, peer_id: 'worker' });
  const b = await compatPeer(server, { room_id: room, peer_id: 'client' });
  const far = await compatPeer(server, { room_id: freshRoom('far'), peer_id: 'far' });
  return { server, a: a.client, b: b.client, far: far.client };
}

describe('compat mode (--compat sleap-rtc)', () => {
  it('names the register reply registered_auth, with the same fields', async () => {
    const server = await compatServer();
    const room = freshRoom();
    await compatPeer(server, { room_id: room, peer_id: 'first', metadata: { tags: ['t'] } });
    const { registered } = await compatPeer(server, { room_id: room, peer_id: 'second', token: 'tok', is_admin: true });
    expect(registered).toEqual({
      type: 'registered_auth',
      peer_id: 'second',
      room_id: room,
      role: 'peer',
      token: 'tok',
      session_token: expect.any(String),
      admin_peer_id: 'second',
      peer_list: ['first'],
      peer_metadata: { first: { tags: ['t'] } },
      ice_servers: [],
      mesh_ice_servers: [],
      server_id: server.serverId,
    });
  });

  it('lets the newest registration of a peer id win without a session_token, closing the old one with 4002', async () => {
    const server = await compatServer();
    const room = freshRoom();
    const watch = await compatPeer(server, { room_id: room, peer_id: 'watch', presence: true });
    const old = await compatPeer(server, { room_id: room, peer_id: 'worker-1', role: 'worker' });
    await expectMessage(watch.client, 'peer_joined');
    const fresh = await open(server);
    const reply = await register(fresh, { room_id: room, peer_id: 'worker-1', role: 'worker' }, 'registered_auth');
    expect(reply).toMatchObject({ type: 'registered_auth', peer_id: 'worker-1' });
    expect((await old.client.closed).code).toBe(4002);
    await waitForConnections(server, 2);
    // A takeover, not a leave: the watcher hears nothing, and the id lives on the new connection.
    await expectNothing(watch.client);
    expect(await discoverIds(watch.client)).toEqual(['worker-1']);
    watch.client.send({ type: 'peer_message', to_peer_id: 'worker-1', payload: 'ping' });
    expect(await expectMessage(fresh, 'peer_message')).toMatchObject({ from_peer_id: 'watch', payload: 'ping' });
  });

  it('relays a client error {type: "error", target, ...} like an answer, with sender stamped', async () => {
    const { a, b } = await compatPair();
    const refusal = { type: 'error', target: 'client', reason: 'worker busy', message: 'worker busy', code: 'BUSY' };
    a.send(refusal);
    expect(await expectMessage(b, (m) => m.type === 'error')).toEqual({ ...refusal, sender: 'worker' });
    await expectNothing(a, b);
  });

  it('stamps the sender on a relayed error even when the client sent sender: null, and checks identity', async () => {
    const { a, b } = await compatPair();
    a.send({ type: 'error', target: 'client', sender: null, reason: 'no' });
    expect(await expectMessage(b, 'error')).toEqual({ type: 'error', target: 'client', sender: 'worker', reason: 'no' });
    await expectError(a, { type: 'error', target: 'client', sender: 'client', reason: 'spoof' }, 'FORBIDDEN', 'error');
    await expectNothing(b);
  });

  it('still relays offer / answer / candidate and mesh types normally', async () => {
    const { a, b } = await compatPair();
    b.send({ type: 'offer', target: 'worker', sdp: 'o' });
    expect(await expectMessage(a, 'offer')).toEqual({ type: 'offer', target: 'worker', sdp: 'o', sender: 'client' });
    a.send({ type: 'answer', target: 'client', sdp: 'a' });
    expect(await expectMessage(b, 'answer')).toEqual({ type: 'answer', target: 'client', sdp: 'a', sender: 'worker' });
    b.send({ type: 'mesh_connect', target_peer_id: 'worker', offer: 'o' });
    expect(await expectMessage(a, 'mesh_offer')).toEqual({ type: 'mesh_offer', from_peer_id: 'client', offer: 'o' });
  });

  const DROPPED: [string, (target: string) => Record<string, unknown>][] = [
    ['offer', (target) => ({ type: 'offer', target, sdp: 'o' })],
    ['answer', (target) => ({ type: 'answer', target, sdp: 'a' })],
    ['candidate', (target) => ({ type: 'candidate', target, candidate: 'c' })],
    ['error', (target) => ({ type: 'error', target, reason: 'busy' })],
    ['mesh_connect', (target) => ({ type: 'mesh_connect', target_peer_id: target, offer: 'o' })],
    ['mesh_answer', (target) => ({ type: 'mesh_answer', target_peer_id: target, answer: 'a' })],
    ['ice_candidate', (target) => ({ type: 'ice_candidate', target_peer_id: target, candidate: 'c' })],
  ];
  for (const [type, build] of DROPPED) {
    it(`drops ${type} to an unknown target or one in another room silently`, async () => {
      const { a, far } = await compatPair();
      a.send(build('vanished'));
      a.send(build('far'));
      await expectNothing(a, far);
      expect(a.isOpen).toBe(true);
    });
  }

  it('keeps error replies for peer_message to an unknown target or another room', async () => {
    const { a, far } = await compatPair();
    await expectError(a, { type: 'peer_message', to_peer_id: 'vanished', payload: 1 }, 'PEER_NOT_FOUND', 'peer_message');
    await expectError(a, { type: 'peer_message', to_peer_id: 'far', payload: 1 }, 'PEER_NOT_IN_ROOM', 'peer_message');
    await expectNothing(far);
  });

  it('keeps error replies for requests that are not relays', async () => {
    const server = await compatServer();
    const stranger = await open(server);
    await expectError(stranger, { type: 'discover_peers' }, 'NOT_REGISTERED');
    await expectError(stranger, { type: 'error', target: 'x' }, 'NOT_REGISTERED', 'error');
    await expectError(stranger, { type: 'register' }, 'INVALID_MESSAGE', 'register');
    await expectError(stranger, { type: 'nonsense' }, 'UNKNOWN_MESSAGE_TYPE');
    const me = await compatPeer(server, { room_id: freshRoom() });
    await expectError(me.client, { type: 'error', reason: 'no target' }, 'INVALID_MESSAGE', 'error');
  });
});

describe('outside compat mode', () => {
  it('refuses a client {type: "error"} with UNKNOWN_MESSAGE_TYPE and relays nothing', async () => {
    const server = await startServer();
    const room = freshRoom();
    const bob = await peer(server, { room_id: room, peer_id: 'bob' });
    const alice = await peer(server, { room_id: room, peer_id: 'alice' });
    await expectError(alice.client, { type: 'error', target: 'bob', reason: 'busy' }, 'UNKNOWN_MESSAGE_TYPE', 'error');
    await expectNothing(bob.client);
  });
});

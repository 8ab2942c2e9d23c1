import { describe, expect, it } from 'vitest';
import { startServer } from '../helpers/harness.js';
import type { SignalingServer } from '../../src/server/signaling-server.js';
import {
  chars,
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

async function pair(): Promise<{ server: SignalingServer; room: string; a: SignalClient; b: SignalClient }> {
  const server = await startServer();
  const room = freshRoom();
  const a = await peer(server, { room_id: room, peer_id: 'alice' });
  const b = await peer(server, { room_id: room, peer_id: 'bob' });
  return { server, room, a: a.client, b: b.client };
}

describe('peer_message', () => {
  const PAYLOADS: [string, unknown][] = [
    ['an object', { kind: 'job', args: [1, 'two', { three: 3 }], nested: { x: null } }],
    ['null', null],
    ['a string', 'hello'],
    ['a number', 0],
    ['false', false],
    ['an array', [null, [], {}]],
    ['an empty object', {}],
  ];
  for (const [name, payload] of PAYLOADS) {
    it(`delivers ${name} payload as {type, from_peer_id, to_peer_id, payload}`, async () => {
      const { a, b } = await pair();
      a.send({ type: 'peer_message', to_peer_id: 'bob', payload });
      const got = await expectMessage(b, 'peer_message');
      expect(got).toEqual({ type: 'peer_message', from_peer_id: 'alice', to_peer_id: 'bob', payload });
      expect(Object.keys(got).sort()).toEqual(['from_peer_id', 'payload', 'to_peer_id', 'type']);
      // Nothing goes back to the sender.
      await expectNothing(a, b);
    });
  }

  it('refuses a message without payload (INVALID_MESSAGE) and delivers nothing', async () => {
    const { a, b } = await pair();
    await expectError(a, { type: 'peer_message', to_peer_id: 'bob' }, 'INVALID_MESSAGE', 'peer_message');
    await expectNothing(b);
  });

  it('drops fields the sender added: the target gets the documented fields only', async () => {
    const { a, b } = await pair();
    a.send({ type: 'peer_message', to_peer_id: 'bob', payload: 1, extra: 'x', from_peer_id: 'alice' });
    expect(await expectMessage(b, 'peer_message')).toEqual({ type: 'peer_message', from_peer_id: 'alice', to_peer_id: 'bob', payload: 1 });
  });

  it('refuses a missing, null, empty or over-long to_peer_id with INVALID_MESSAGE', async () => {
    const { a, b } = await pair();
    await expectError(a, { type: 'peer_message', payload: 1 }, 'INVALID_MESSAGE');
    await expectError(a, { type: 'peer_message', to_peer_id: null, payload: 1 }, 'INVALID_MESSAGE');
    await expectError(a, { type: 'peer_message', to_peer_id: '', payload: 1 }, 'INVALID_MESSAGE');
    await expectError(a, { type: 'peer_message', to_peer_id: 5, payload: 1 }, 'INVALID_MESSAGE');
    await expectError(a, { type: 'peer_message', to_peer_id: chars(129), payload: 1 }, 'INVALID_MESSAGE');
    // 128 characters is a valid id, just not a connected one.
    await expectError(a, { type: 'peer_message', to_peer_id: chars(128), payload: 1 }, 'PEER_NOT_FOUND');
    await expectNothing(b);
  });
});

describe('offer / answer / candidate', () => {
  for (const type of ['offer', 'answer', 'candidate'] as const) {
    it(`relays ${type} untouched with sender stamped`, async () => {
      const { a, b } = await pair();
      const message = {
        type,
        target: 'bob',
        sdp: 'v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\n',
        candidate: { candidate: 'candidate:1 1 udp 2122260223 10.0.0.1 5000 typ host', sdpMid: '0', sdpMLineIndex: 0 },
        role: 'worker',
        extra: { nested: [1, null, 'x'] },
        flag: false,
        nothing: null,
      };
      a.send(message);
      expect(await expectMessage(b, type)).toEqual({ ...message, sender: 'alice' });
      await expectNothing(a);
    });

    it(`stamps the sender on ${type} even when the client sent sender: null`, async () => {
      const { a, b } = await pair();
      a.send({ type, target: 'bob', sender: null, sdp: 'x' });
      expect(await expectMessage(b, type)).toEqual({ type, target: 'bob', sender: 'alice', sdp: 'x' });
    });

    it(`answers ${type} to an unknown target with PEER_NOT_FOUND and to another room with PEER_NOT_IN_ROOM`, async () => {
      const { server, a } = await pair();
      const far = await peer(server, { room_id: freshRoom('far'), peer_id: 'far' });
      await expectError(a, { type, target: 'nobody', sdp: 'x' }, 'PEER_NOT_FOUND');
      await expectError(a, { type, target: 'far', sdp: 'x' }, 'PEER_NOT_IN_ROOM');
      await expectNothing(far.client);
    });
  }

  it('refuses a missing, empty or over-long target with INVALID_MESSAGE', async () => {
    const { a, b } = await pair();
    await expectError(a, { type: 'offer', sdp: 'x' }, 'INVALID_MESSAGE');
    await expectError(a, { type: 'answer', target: null, sdp: 'x' }, 'INVALID_MESSAGE');
    await expectError(a, { type: 'candidate', target: '', candidate: 'x' }, 'INVALID_MESSAGE');
    await expectError(a, { type: 'offer', target: chars(129), sdp: 'x' }, 'INVALID_MESSAGE');
    await expectNothing(b);
  });
});

describe('mesh relays', () => {
  it('mesh_connect reaches the target as mesh_offer {from_peer_id, offer}', async () => {
    const { a, b } = await pair();
    const offer = { type: 'offer', sdp: 'v=0' };
    a.send({ type: 'mesh_connect', target_peer_id: 'bob', offer });
    expect(await expectMessage(b, 'mesh_offer')).toEqual({ type: 'mesh_offer', from_peer_id: 'alice', offer });
    await expectNothing(a);
  });

  it('mesh_answer reaches the target as mesh_answer {from_peer_id, answer}', async () => {
    const { a, b } = await pair();
    b.send({ type: 'mesh_answer', target_peer_id: 'alice', answer: 'sdp-answer', junk: 1 });
    expect(await expectMessage(a, 'mesh_answer')).toEqual({ type: 'mesh_answer', from_peer_id: 'bob', answer: 'sdp-answer' });
    await expectNothing(b);
  });

  it('ice_candidate reaches the target as ice_candidate {from_peer_id, candidate}', async () => {
    const { a, b } = await pair();
    const candidate = { candidate: 'candidate:0 1 UDP 1 1.2.3.4 9 typ host', sdpMLineIndex: 0 };
    a.send({ type: 'ice_candidate', target_peer_id: 'bob', candidate });
    expect(await expectMessage(b, 'ice_candidate')).toEqual({ type: 'ice_candidate', from_peer_id: 'alice', candidate });
  });

  it('refuses a missing or null offer / answer / candidate, and a missing target_peer_id', async () => {
    const { a, b } = await pair();
    await expectError(a, { type: 'mesh_connect', target_peer_id: 'bob' }, 'INVALID_MESSAGE');
    await expectError(a, { type: 'mesh_connect', target_peer_id: 'bob', offer: null }, 'INVALID_MESSAGE');
    await expectError(a, { type: 'mesh_answer', target_peer_id: 'bob', answer: null }, 'INVALID_MESSAGE');
    await expectError(a, { type: 'ice_candidate', target_peer_id: 'bob' }, 'INVALID_MESSAGE');
    await expectError(a, { type: 'ice_candidate', candidate: 'c' }, 'INVALID_MESSAGE');
    await expectError(a, { type: 'mesh_connect', target_peer_id: chars(129), offer: 'o' }, 'INVALID_MESSAGE');
    await expectNothing(b);
  });

  it('answers PEER_NOT_FOUND / PEER_NOT_IN_ROOM for mesh types', async () => {
    const { server, a } = await pair();
    await peer(server, { room_id: freshRoom('far'), peer_id: 'far' });
    await expectError(a, { type: 'mesh_connect', target_peer_id: 'nobody', offer: 'o' }, 'PEER_NOT_FOUND');
    await expectError(a, { type: 'mesh_answer', target_peer_id: 'nobody', answer: 'a' }, 'PEER_NOT_FOUND');
    await expectError(a, { type: 'ice_candidate', target_peer_id: 'nobody', candidate: 'c' }, 'PEER_NOT_FOUND');
    await expectError(a, { type: 'mesh_connect', target_peer_id: 'far', offer: 'o' }, 'PEER_NOT_IN_ROOM');
    await expectError(a, { type: 'mesh_answer', target_peer_id: 'far', answer: 'a' }, 'PEER_NOT_IN_ROOM');
    await expectError(a, { type: 'ice_candidate', target_peer_id: 'far', candidate: 'c' }, 'PEER_NOT_IN_ROOM');
  });
});

describe('relay targets', () => {
  it('may be the sender itself', async () => {
    const { a } = await pair();
    a.send({ type: 'peer_message', to_peer_id: 'alice', payload: 'me' });
    expect(await expectMessage(a, 'peer_message')).toEqual({ type: 'peer_message', from_peer_id: 'alice', to_peer_id: 'alice', payload: 'me' });
    a.send({ type: 'offer', target: 'alice', sdp: 's' });
    expect(await expectMessage(a, 'offer')).toEqual({ type: 'offer', target: 'alice', sdp: 's', sender: 'alice' });
    a.send({ type: 'mesh_connect', target_peer_id: 'alice', offer: 'o' });
    expect(await expectMessage(a, 'mesh_offer')).toEqual({ type: 'mesh_offer', from_peer_id: 'alice', offer: 'o' });
    await expectNothing(a);
  });

  it('PEER_NOT_FOUND for a peer id nobody holds; PEER_NOT_IN_ROOM for a peer of another room, which gets nothing', async () => {
    const { server, a } = await pair();
    const far = await peer(server, { room_id: freshRoom('far'), peer_id: 'far' });
    await expectError(a, { type: 'peer_message', to_peer_id: 'nobody', payload: 1 }, 'PEER_NOT_FOUND', 'peer_message');
    await expectError(a, { type: 'peer_message', to_peer_id: 'far', payload: 1 }, 'PEER_NOT_IN_ROOM', 'peer_message');
    await expectNothing(far.client);
  });

  it('is PEER_NOT_FOUND once the target left or disconnected', async () => {
    const { a, b, server, room } = await pair();
    b.send({ type: 'leave' });
    await expectMessage(b, 'left');
    await expectError(a, { type: 'peer_message', to_peer_id: 'bob', payload: 1 }, 'PEER_NOT_FOUND');
    const c = await peer(server, { room_id: room, peer_id: 'carol' });
    expect(await discoverIds(a)).toEqual(['carol']);
    await c.client.close();
    await waitForConnections(server, 2);
    expect(await discoverIds(a)).toEqual([]);
    await expectError(a, { type: 'offer', target: 'carol', sdp: 'x' }, 'PEER_NOT_FOUND');
  });

  it('follows a peer that moved: it is reached in its new room only', async () => {
    const { server, a, b } = await pair();
    const other = freshRoom('other');
    const there = await peer(server, { room_id: other, peer_id: 'there' });
    await register(b, { room_id: other, peer_id: 'bob' });
    await expectError(a, { type: 'peer_message', to_peer_id: 'bob', payload: 1 }, 'PEER_NOT_IN_ROOM');
    there.client.send({ type: 'peer_message', to_peer_id: 'bob', payload: 2 });
    expect(await expectMessage(b, 'peer_message')).toMatchObject({ from_peer_id: 'there', payload: 2 });
  });
});

describe('ping', () => {
  it('is answered with pong before and after register, and ignores identity fields', async () => {
    const server = await startServer();
    const client = await open(server);
    client.send({ type: 'ping' });
    expect(await expectMessage(client, 'pong')).toEqual({ type: 'pong' });
    await register(client, { room_id: freshRoom(), peer_id: 'p' });
    client.send({ type: 'ping', from_peer_id: 'someone-else', peer_id: 'x', sender: 7 });
    expect(await expectMessage(client, 'pong')).toEqual({ type: 'pong' });
    await expectNothing(client);
  });
});

describe('leave', () => {
  it('replies left {peer_id, room_id}, keeps the connection open and allows a new register', async () => {
    const { a, b, room } = await pair();
    a.send({ type: 'leave' });
    expect(await expectMessage(a, 'left')).toEqual({ type: 'left', peer_id: 'alice', room_id: room });
    expect(a.isOpen).toBe(true);
    expect(await discoverIds(b)).toEqual([]);
    await expectError(a, { type: 'peer_message', to_peer_id: 'bob', payload: 1 }, 'NOT_REGISTERED');
    await expectError(a, { type: 'leave' }, 'NOT_REGISTERED');

    const again = await register(a, { room_id: room, peer_id: 'alice2' });
    expect(again).toMatchObject({ type: 'registered', peer_id: 'alice2', peer_list: ['bob'] });
    a.send({ type: 'peer_message', to_peer_id: 'bob', payload: 'back' });
    expect(await expectMessage(b, 'peer_message')).toMatchObject({ from_peer_id: 'alice2', payload: 'back' });
  });

  it('before register is NOT_REGISTERED', async () => {
    const server = await startServer();
    const client = await open(server);
    await expectError(client, { type: 'leave' }, 'NOT_REGISTERED', 'leave');
    expect(client.isOpen).toBe(true);
  });

  it('gives a new session_token on the next register', async () => {
    const server = await startServer();
    const room = freshRoom();
    const a = await peer(server, { room_id: room, peer_id: 'alice' });
    a.client.send({ type: 'leave' });
    await expectMessage(a.client, 'left');
    const again = await register(a.client, { room_id: room, peer_id: 'alice' });
    expect(again.type).toBe('registered');
    expect(again.session_token).not.toBe(a.registered.session_token);
  });
});

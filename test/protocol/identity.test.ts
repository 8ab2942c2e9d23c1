import { describe, expect, it } from 'vitest';
import { startServer } from '../helpers/harness.js';
import { discoverIds, expectError, expectMessage, expectNothing, freshRoom, open, peer, register } from './support.js';

/** One valid message of every type that needs a registration, aimed at peer "bob". */
const REGISTERED_ONLY: Record<string, unknown>[] = [
  { type: 'discover_peers' },
  { type: 'update_metadata', metadata: { tags: ['x'] } },
  { type: 'peer_message', to_peer_id: 'bob', payload: 1 },
  { type: 'offer', target: 'bob', sdp: 'o' },
  { type: 'answer', target: 'bob', sdp: 'a' },
  { type: 'candidate', target: 'bob', candidate: 'c' },
  { type: 'mesh_connect', target_peer_id: 'bob', offer: 'o' },
  { type: 'mesh_answer', target_peer_id: 'bob', answer: 'a' },
  { type: 'ice_candidate', target_peer_id: 'bob', candidate: 'c' },
  { type: 'leave' },
];
const IDENTITY_FIELDS = ['from_peer_id', 'sender', 'peer_id'] as const;

describe('NOT_REGISTERED', () => {
  for (const message of REGISTERED_ONLY) {
    it(`refuses ${message.type as string} before register`, async () => {
      const server = await startServer();
      const room = freshRoom();
      const bob = await peer(server, { room_id: room, peer_id: 'bob' });
      const stranger = await open(server);
      await expectError(stranger, message, 'NOT_REGISTERED', message.type as string);
      // NOT_REGISTERED comes before FORBIDDEN: a claimed identity changes nothing.
      await expectError(stranger, { ...message, from_peer_id: 'bob' }, 'NOT_REGISTERED');
      await expectNothing(bob.client);
      expect(stranger.isOpen).toBe(true);
    });
  }

  it('is not INVALID_MESSAGE-masked: a malformed message before register is INVALID_MESSAGE', async () => {
    const server = await startServer();
    const stranger = await open(server);
    await expectError(stranger, { type: 'peer_message', payload: 1 }, 'INVALID_MESSAGE');
    await expectError(stranger, { type: 'nonsense' }, 'UNKNOWN_MESSAGE_TYPE', 'nonsense');
  });
});

describe('identity fields', () => {
  for (const message of REGISTERED_ONLY) {
    for (const field of IDENTITY_FIELDS) {
      it(`${message.type as string} with ${field} of another peer is FORBIDDEN and has no effect`, async () => {
        const server = await startServer();
        const room = freshRoom();
        const watch = await peer(server, { room_id: room, peer_id: 'watch', presence: true });
        const bob = await peer(server, { room_id: room, peer_id: 'bob' });
        const alice = await peer(server, { room_id: room, peer_id: 'alice', metadata: { tags: ['a'] } });
        await expectMessage(watch.client, (m) => m.type === 'peer_joined' && m.peer_id === 'alice');
        watch.client.drain();
        await expectError(alice.client, { ...message, [field]: 'bob' }, 'FORBIDDEN', message.type as string);
        await expectNothing(alice.client, bob.client, watch.client);
        // Alice is still registered, unchanged.
        expect(await discoverIds(watch.client, { tags: ['a'] })).toEqual(['alice']);
      });
    }
  }

  it('are accepted when they equal the sender\'s own id, or are null', async () => {
    const server = await startServer();
    const room = freshRoom();
    const bob = await peer(server, { room_id: room, peer_id: 'bob' });
    const alice = await peer(server, { room_id: room, peer_id: 'alice' });
    const own = { from_peer_id: 'alice', sender: 'alice', peer_id: 'alice' };
    alice.client.send({ type: 'peer_message', to_peer_id: 'bob', payload: 1, ...own });
    expect(await expectMessage(bob.client, 'peer_message')).toEqual({ type: 'peer_message', from_peer_id: 'alice', to_peer_id: 'bob', payload: 1 });
    alice.client.send({ type: 'offer', target: 'bob', sdp: 'x', ...own });
    expect(await expectMessage(bob.client, 'offer')).toEqual({ type: 'offer', target: 'bob', sdp: 'x', ...own });
    alice.client.send({ type: 'mesh_connect', target_peer_id: 'bob', offer: 'o', from_peer_id: null, sender: null, peer_id: null });
    expect(await expectMessage(bob.client, 'mesh_offer')).toEqual({ type: 'mesh_offer', from_peer_id: 'alice', offer: 'o' });
    expect(await discoverIds(alice.client)).toEqual(['bob']);
    alice.client.send({ type: 'discover_peers', ...own });
    expect(await expectMessage(alice.client, 'peer_list')).toMatchObject({ count: 1 });
    alice.client.send({ type: 'update_metadata', metadata: {}, ...own });
    expect(await expectMessage(alice.client, 'metadata_updated')).toMatchObject({ peer_id: 'alice' });
    alice.client.send({ type: 'leave', ...own });
    expect(await expectMessage(alice.client, 'left')).toMatchObject({ peer_id: 'alice' });
    await expectNothing(alice.client, bob.client);
  });

  for (const field of IDENTITY_FIELDS) {
    it(`${field} of the wrong type is INVALID_MESSAGE`, async () => {
      const server = await startServer();
      const room = freshRoom();
      const bob = await peer(server, { room_id: room, peer_id: 'bob' });
      const alice = await peer(server, { room_id: room, peer_id: 'alice' });
      for (const value of [1, true, ['alice'], { id: 'alice' }]) {
        await expectError(alice.client, { type: 'peer_message', to_peer_id: 'bob', payload: 1, [field]: value }, 'INVALID_MESSAGE');
        await expectError(alice.client, { type: 'offer', target: 'bob', [field]: value }, 'INVALID_MESSAGE');
        await expectError(alice.client, { type: 'discover_peers', [field]: value }, 'INVALID_MESSAGE');
      }
      await expectNothing(bob.client);
    });
  }

  it('FORBIDDEN comes before PEER_NOT_FOUND and PEER_NOT_IN_ROOM; INVALID_MESSAGE before FORBIDDEN', async () => {
    const server = await startServer();
    const room = freshRoom();
    await peer(server, { room_id: freshRoom('far'), peer_id: 'far' });
    const alice = await peer(server, { room_id: room, peer_id: 'alice' });
    await expectError(alice.client, { type: 'peer_message', to_peer_id: 'nobody', payload: 1, from_peer_id: 'x' }, 'FORBIDDEN');
    await expectError(alice.client, { type: 'offer', target: 'far', sender: 'x' }, 'FORBIDDEN');
    await expectError(alice.client, { type: 'peer_message', to_peer_id: 'far', from_peer_id: 'x' }, 'INVALID_MESSAGE');
  });

  it('are checked against the current id after a rename', async () => {
    const server = await startServer();
    const room = freshRoom();
    const bob = await peer(server, { room_id: room, peer_id: 'bob' });
    const me = await peer(server, { room_id: room, peer_id: 'old' });
    await register(me.client, { room_id: room, peer_id: 'new' });
    await expectError(me.client, { type: 'peer_message', to_peer_id: 'bob', payload: 1, from_peer_id: 'old' }, 'FORBIDDEN');
    me.client.send({ type: 'peer_message', to_peer_id: 'bob', payload: 2, from_peer_id: 'new' });
    expect(await expectMessage(bob.client, 'peer_message')).toMatchObject({ from_peer_id: 'new', payload: 2 });
  });
});

describe('message envelope', () => {
  it('refuses a missing or non-string type with INVALID_MESSAGE (no request_type), and type "" as UNKNOWN_MESSAGE_TYPE', async () => {
    const server = await startServer();
    const client = await open(server);
    await expectError(client, { room_id: 'r' }, 'INVALID_MESSAGE', null);
    await expectError(client, { type: 5 }, 'INVALID_MESSAGE', null);
    await expectError(client, { type: null }, 'INVALID_MESSAGE', null);
    await expectError(client, { type: '' }, 'UNKNOWN_MESSAGE_TYPE', '');
    await expectError(client, { type: 'registered' }, 'UNKNOWN_MESSAGE_TYPE', 'registered');
  });

  it('refuses a binary frame with INVALID_MESSAGE (no request_type) and keeps the connection', async () => {
    const server = await startServer();
    const client = await open(server);
    client.sendRaw(Buffer.from(JSON.stringify({ type: 'ping' })), true);
    const reply = await expectMessage(client, 'error');
    expect(reply).toMatchObject({ code: 'INVALID_MESSAGE' });
    expect(reply).not.toHaveProperty('request_type');
    client.send({ type: 'ping' });
    await expectMessage(client, 'pong');
  });

  it('refuses text that is not a JSON object with INVALID_JSON', async () => {
    const server = await startServer();
    const client = await open(server);
    for (const raw of ['not json', '[1,2]', '"register"', 'null', '42']) {
      client.sendRaw(raw);
      const reply = await expectMessage(client, 'error');
      expect(reply).toMatchObject({ code: 'INVALID_JSON' });
      expect(reply).not.toHaveProperty('request_type');
    }
    expect(client.isOpen).toBe(true);
  });
});

import { describe, expect, it } from 'vitest';
import { startServer } from '../helpers/harness.js';
import { expectValidServerMessage } from '../helpers/server-schema.js';
import {
  chars,
  discover,
  discoverIds,
  expectError,
  expectMessage,
  expectNothing,
  freshRoom,
  open,
  peer,
  register,
} from './support.js';

const REGISTERED_KEYS = [
  'admin_peer_id',
  'ice_servers',
  'mesh_ice_servers',
  'peer_id',
  'peer_list',
  'peer_metadata',
  'role',
  'room_id',
  'server_id',
  'session_token',
  'token',
  'type',
];

/** Small pause so that consecutive registrations get distinct connected_at values. */
const tick = () => new Promise((r) => setTimeout(r, 3));

describe('register', () => {
  it('generates a peer id when none is given, with role "peer" and metadata {} by default', async () => {
    const server = await startServer();
    const room = freshRoom();
    const a = await peer(server, { room_id: room });
    const b = await peer(server, { room_id: room });
    const idA = a.registered.peer_id as string;
    const idB = b.registered.peer_id as string;
    expect(typeof idA).toBe('string');
    expect(idA.length).toBeGreaterThan(0);
    expect(idA).not.toBe(idB);
    expect(a.registered.role).toBe('peer');
    expect(b.registered.peer_metadata).toEqual({ [idA]: {} });
    const list = await discover(b.client);
    expect(list.peers).toEqual([{ peer_id: idA, role: 'peer', metadata: {}, connected_at: expect.any(Number) }]);
  });

  it('replies registered with exactly the documented fields', async () => {
    const server = await startServer();
    const room = freshRoom();
    const first = await peer(server, { room_id: room, peer_id: 'first', role: 'worker', metadata: { tags: ['gpu'] } });
    expect(Object.keys(first.registered).sort()).toEqual(REGISTERED_KEYS);
    expect(first.registered).toEqual({
      type: 'registered',
      peer_id: 'first',
      room_id: room,
      role: 'worker',
      token: null,
      session_token: expect.any(String),
      admin_peer_id: null,
      peer_list: [],
      peer_metadata: {},
      ice_servers: [],
      mesh_ice_servers: [],
      server_id: server.serverId,
    });
    expect((first.registered.session_token as string).length).toBeGreaterThan(0);

    const second = await peer(server, { room_id: room, peer_id: 'second', token: 'room-secret' });
    expect(Object.keys(second.registered).sort()).toEqual(REGISTERED_KEYS);
    expect(second.registered.token).toBe('room-secret');
    expect(second.registered.peer_list).toEqual(['first']);
    expect(second.registered.peer_metadata).toEqual({ first: { tags: ['gpu'] } });
    expect(second.registered.session_token).not.toBe(first.registered.session_token);
  });

  it('treats null optional fields as absent', async () => {
    const server = await startServer();
    const room = freshRoom();
    const a = await peer(server, {
      room_id: room,
      peer_id: null,
      role: null,
      metadata: null,
      is_admin: null,
      presence: null,
      session_token: null,
      jwt: null,
      id_token: null,
      api_key: null,
    });
    expect(a.registered).toMatchObject({ role: 'peer', admin_peer_id: null, token: null });
    expect(typeof a.registered.peer_id).toBe('string');
    const b = await peer(server, { room_id: room, peer_id: 'b' });
    expect(b.registered.peer_metadata).toEqual({ [a.registered.peer_id as string]: {} });
    // presence: null is no subscription.
    await expectNothing(a.client);
  });

  it('echoes a null token as null', async () => {
    const server = await startServer();
    const { registered } = await peer(server, { room_id: freshRoom(), token: null });
    expect(registered.token).toBeNull();
  });

  it('lists the other peers in discovery order (connected_at, not peer id)', async () => {
    const server = await startServer();
    const room = freshRoom();
    for (const id of ['c', 'a', 'b']) {
      await peer(server, { room_id: room, peer_id: id, metadata: { properties: { name: id } } });
      await tick();
    }
    const last = await peer(server, { room_id: room, peer_id: '0-last' });
    expect(last.registered.peer_list).toEqual(['c', 'a', 'b']);
    expect(last.registered.peer_metadata).toEqual({
      a: { properties: { name: 'a' } },
      b: { properties: { name: 'b' } },
      c: { properties: { name: 'c' } },
    });
    expect(await discoverIds(last.client)).toEqual(last.registered.peer_list);
  });

  it('keeps top-level metadata keys other than tags and properties, and drops top-level nulls', async () => {
    const server = await startServer();
    const room = freshRoom();
    const metadata = { tags: ['x'], properties: { n: 1 }, version: '1.2', nested: { deep: [1, { a: null }] }, gone: null };
    await peer(server, { room_id: room, peer_id: 'meta', metadata });
    const other = await peer(server, { room_id: room });
    expect(other.registered.peer_metadata).toEqual({
      meta: { tags: ['x'], properties: { n: 1 }, version: '1.2', nested: { deep: [1, { a: null }] } },
    });
  });

  describe('validation', () => {
    const invalid: [string, Record<string, unknown>][] = [
      ['missing room_id', { peer_id: 'p' }],
      ['null room_id', { room_id: null, peer_id: 'p' }],
      ['empty room_id', { room_id: '' }],
      ['room_id of 129 characters', { room_id: chars(129) }],
      ['room_id not a string', { room_id: 7 }],
      ['empty peer_id', { room_id: 'r', peer_id: '' }],
      ['peer_id of 129 characters', { room_id: 'r', peer_id: chars(129) }],
      ['peer_id not a string', { room_id: 'r', peer_id: ['p'] }],
      ['role of 65 characters', { room_id: 'r', role: chars(65) }],
      ['role not a string', { room_id: 'r', role: 1 }],
      ['metadata not an object', { room_id: 'r', metadata: 'm' }],
      ['metadata as an array', { room_id: 'r', metadata: [] }],
      ['65 tags', { room_id: 'r', metadata: { tags: Array.from({ length: 65 }, (_, i) => `t${i}`) } }],
      ['tags not strings', { room_id: 'r', metadata: { tags: [1] } }],
      ['tags not an array', { room_id: 'r', metadata: { tags: 'gpu' } }],
      ['properties not an object', { room_id: 'r', metadata: { properties: [1] } }],
      ['metadata of 16 KiB + 1 byte', { room_id: 'r', metadata: { x: chars(16 * 1024 - 8 + 1) } }],
      ['metadata over 16 KiB in UTF-8 (not in characters)', { room_id: 'r', metadata: { x: chars(8189, 'é') } }],
      ['is_admin not a boolean', { room_id: 'r', is_admin: 'yes' }],
      ['presence not a boolean', { room_id: 'r', presence: 1 }],
      ['session_token not a string', { room_id: 'r', session_token: 5 }],
    ];
    for (const [name, fields] of invalid) {
      it(`refuses ${name} with INVALID_MESSAGE and stays unregistered`, async () => {
        const server = await startServer();
        const client = await open(server);
        await expectError(client, { type: 'register', ...fields }, 'INVALID_MESSAGE', 'register');
        // Not registered, connection still open.
        await expectError(client, { type: 'discover_peers' }, 'NOT_REGISTERED');
        expect(client.isOpen).toBe(true);
      });
    }

    it('accepts the limits themselves: 128-character ids, 64-character role, 64 tags, 16 KiB metadata', async () => {
      const server = await startServer();
      const room = chars(128, 'r');
      const a = await peer(server, { room_id: room, peer_id: chars(128, 'p'), role: chars(64, 'w') });
      expect(a.registered.peer_id).toBe(chars(128, 'p'));
      expect(a.registered.room_id).toBe(room);
      const tags = Array.from({ length: 64 }, (_, i) => `t${i}`);
      await peer(server, { room_id: room, metadata: { tags } });
      // {"x":"..."} is 8 bytes plus the string; é is two bytes in UTF-8.
      await peer(server, { room_id: room, metadata: { x: chars(16 * 1024 - 8) } });
      await peer(server, { room_id: room, metadata: { x: chars(8188, 'é') } });
    });
  });

  describe('re-registration', () => {
    it('in place (same id and room) replaces role and metadata, keeps session_token and connected_at', async () => {
      const server = await startServer();
      const room = freshRoom();
      const me = await peer(server, { room_id: room, peer_id: 'me', role: 'client', metadata: { tags: ['old'], keep: 1 } });
      const other = await peer(server, { room_id: room, peer_id: 'other' });
      const before = (await discover(other.client)).peers as Record<string, unknown>[];
      await new Promise((r) => setTimeout(r, 5));

      const again = await register(me.client, { room_id: room, peer_id: 'me', role: 'worker', metadata: { tags: ['new'] } });
      expect(again.type).toBe('registered');
      expect(again.peer_id).toBe('me');
      expect(again.role).toBe('worker');
      expect(again.session_token).toBe(me.registered.session_token);
      expect(again.peer_list).toEqual(['other']);

      const after = (await discover(other.client)).peers as Record<string, unknown>[];
      expect(after).toEqual([
        { peer_id: 'me', role: 'worker', metadata: { tags: ['new'] }, connected_at: before[0]!.connected_at },
      ]);
      await expectNothing(me.client);
    });

    it('is a full statement: omitted role and metadata take their defaults, an omitted peer_id means the current one', async () => {
      const server = await startServer();
      const room = freshRoom();
      const me = await peer(server, { room_id: room, peer_id: 'me', role: 'worker', metadata: { tags: ['gpu'] } });
      const other = await peer(server, { room_id: room });
      const again = await register(me.client, { room_id: room });
      expect(again.type).toBe('registered');
      expect(again.peer_id).toBe('me');
      expect(again.role).toBe('peer');
      expect(again.session_token).toBe(me.registered.session_token);
      const list = await discover(other.client);
      expect(list.peers).toEqual([{ peer_id: 'me', role: 'peer', metadata: {}, connected_at: expect.any(Number) }]);
    });

    it('to another room is a leave plus a register: peer_left in the old room, peer_joined in the new, no left to the client', async () => {
      const server = await startServer();
      const roomA = freshRoom('a');
      const roomB = freshRoom('b');
      const watchA = await peer(server, { room_id: roomA, peer_id: 'watch-a', presence: true });
      const watchB = await peer(server, { room_id: roomB, peer_id: 'watch-b', presence: true });
      const mover = await peer(server, { room_id: roomA, peer_id: 'mover', role: 'worker' });
      expect(await expectMessage(watchA.client, 'peer_joined')).toMatchObject({ peer_id: 'mover' });

      mover.client.send({ type: 'register', room_id: roomB, peer_id: 'mover', role: 'worker', metadata: { tags: ['b'] } });
      const moved = await expectMessage(mover.client, (m) => m.type === 'registered' || m.type === 'error');
      expect(moved).toMatchObject({ type: 'registered', peer_id: 'mover', room_id: roomB, peer_list: ['watch-b'] });
      expect(moved.session_token).not.toBe(mover.registered.session_token);

      expect(await expectMessage(watchA.client, 'peer_left')).toEqual({ type: 'peer_left', peer_id: 'mover', reason: 'left' });
      expect(await expectMessage(watchB.client, 'peer_joined')).toEqual({
        type: 'peer_joined',
        peer_id: 'mover',
        role: 'worker',
        metadata: { tags: ['b'] },
      });
      expect(await discoverIds(watchA.client)).toEqual([]);
      expect(await discoverIds(watchB.client)).toEqual(['mover']);
      // The client got `registered`, and no `left` for the leave step.
      await expectNothing(mover.client, watchA.client, watchB.client);
      expect(mover.client.received.some((m) => m.type === 'left')).toBe(false);
    });

    it('under another peer id in the same room is a rename: peer_left for the old id, peer_joined for the new', async () => {
      const server = await startServer();
      const room = freshRoom();
      const watch = await peer(server, { room_id: room, peer_id: 'watch', presence: true });
      const me = await peer(server, { room_id: room, peer_id: 'old-name' });
      await expectMessage(watch.client, 'peer_joined');

      const renamed = await register(me.client, { room_id: room, peer_id: 'new-name' });
      expect(renamed).toMatchObject({ type: 'registered', peer_id: 'new-name', room_id: room, peer_list: ['watch'] });
      expect(await expectMessage(watch.client, 'peer_left')).toEqual({ type: 'peer_left', peer_id: 'old-name', reason: 'left' });
      expect(await expectMessage(watch.client, 'peer_joined')).toMatchObject({ peer_id: 'new-name' });
      expect(await discoverIds(watch.client)).toEqual(['new-name']);
      await expectNothing(me.client);
      expect(me.client.received.some((m) => m.type === 'left')).toBe(false);

      // The old id is free again.
      const reuse = await peer(server, { room_id: room, peer_id: 'old-name' });
      expect(reuse.registered.peer_id).toBe('old-name');
    });

    it('that fails leaves the old registration exactly as it was', async () => {
      const server = await startServer();
      const room = freshRoom();
      const taken = await peer(server, { room_id: room, peer_id: 'taken' });
      const me = await peer(server, { room_id: room, peer_id: 'me', role: 'worker', metadata: { tags: ['gpu'] }, presence: true });

      await expectError(me.client, { type: 'register', room_id: room, peer_id: 'taken', role: 'other' }, 'PEER_ID_TAKEN', 'register');
      await expectError(me.client, { type: 'register', room_id: room, role: chars(65) }, 'INVALID_MESSAGE', 'register');
      await expectError(me.client, { type: 'register', room_id: room, metadata: { x: chars(17 * 1024) } }, 'INVALID_MESSAGE', 'register');

      const list = await discover(taken.client);
      expect(list.peers).toEqual([{ peer_id: 'me', role: 'worker', metadata: { tags: ['gpu'] }, connected_at: expect.any(Number) }]);
      // Still registered as "me" (identity checks use it), still a presence subscriber.
      await expectError(me.client, { type: 'discover_peers', from_peer_id: 'taken' }, 'FORBIDDEN');
      expect(await discoverIds(me.client, undefined)).toEqual(['taken']);
      const newcomer = await peer(server, { room_id: room, peer_id: 'newcomer' });
      expect(await expectMessage(me.client, 'peer_joined')).toMatchObject({ peer_id: 'newcomer' });
      // The session token was not replaced either.
      const again = await register(me.client, { room_id: room, peer_id: 'me', role: 'worker', metadata: { tags: ['gpu'] }, presence: true });
      expect(again.session_token).toBe(me.registered.session_token);
    });
  });

  describe('ROOM_FULL', () => {
    it('refuses a registrant beyond the room limit, and admits one once a slot is free', async () => {
      const server = await startServer({ limits: { maxPeersPerRoom: 2 } });
      const room = freshRoom();
      const a = await peer(server, { room_id: room, peer_id: 'a' });
      await peer(server, { room_id: room, peer_id: 'b' });
      const c = await open(server);
      await expectError(c, { type: 'register', room_id: room, peer_id: 'c' }, 'ROOM_FULL', 'register');
      // Another room is not affected.
      expect((await register(c, { room_id: freshRoom(), peer_id: 'c' })).type).toBe('registered');

      const d = await open(server);
      await expectError(d, { type: 'register', room_id: room, peer_id: 'd' }, 'ROOM_FULL', 'register');
      a.client.send({ type: 'leave' });
      await expectMessage(a.client, 'left');
      expect((await register(d, { room_id: room, peer_id: 'd' })).type).toBe('registered');
    });

    it('accepts an in-place re-registration and a rename inside a full room', async () => {
      const server = await startServer({ limits: { maxPeersPerRoom: 2 } });
      const room = freshRoom();
      const a = await peer(server, { room_id: room, peer_id: 'a' });
      const b = await peer(server, { room_id: room, peer_id: 'b' });
      expect((await register(a.client, { room_id: room, peer_id: 'a', role: 'worker' })).type).toBe('registered');
      const renamed = await register(a.client, { room_id: room, peer_id: 'a2' });
      expect(renamed).toMatchObject({ type: 'registered', peer_id: 'a2', peer_list: ['b'] });
      expect(await discoverIds(b.client)).toEqual(['a2']);
    });

    it('refuses a move into a full room and keeps the old registration', async () => {
      const server = await startServer({ limits: { maxPeersPerRoom: 2 } });
      const full = freshRoom('full');
      const home = freshRoom('home');
      await peer(server, { room_id: full, peer_id: 'f1' });
      const f2 = await peer(server, { room_id: full, peer_id: 'f2' });
      const mover = await peer(server, { room_id: home, peer_id: 'mover' });
      const neighbour = await peer(server, { room_id: home, peer_id: 'neighbour' });

      await expectError(mover.client, { type: 'register', room_id: full, peer_id: 'mover' }, 'ROOM_FULL', 'register');
      await expectError(mover.client, { type: 'register', room_id: full, peer_id: 'renamed' }, 'ROOM_FULL', 'register');
      expect(await discoverIds(neighbour.client)).toEqual(['mover']);
      expect(await discoverIds(f2.client)).toEqual(['f1']);
      expect(await discoverIds(mover.client)).toEqual(['neighbour']);
    });
  });

  it('answers ROOM_FULL, not PEER_ID_TAKEN, when both apply (ROOM_FULL comes first in the error table)', async () => {
    const server = await startServer({ limits: { maxPeersPerRoom: 2 } });
    const full = freshRoom('full');
    await peer(server, { room_id: full, peer_id: 'f1' });
    await peer(server, { room_id: full, peer_id: 'f2' });
    await peer(server, { room_id: freshRoom('other'), peer_id: 'held' });
    const client = await open(server);
    await expectError(client, { type: 'register', room_id: full, peer_id: 'held' }, 'ROOM_FULL', 'register');
  });

  describe('PEER_ID_TAKEN', () => {
    it('refuses a peer id held by a live connection, without or with a wrong session_token', async () => {
      const server = await startServer();
      const room = freshRoom();
      const holder = await peer(server, { room_id: room, peer_id: 'dup' });
      const intruder = await open(server);
      await expectError(intruder, { type: 'register', room_id: room, peer_id: 'dup' }, 'PEER_ID_TAKEN', 'register');
      await expectError(intruder, { type: 'register', room_id: freshRoom(), peer_id: 'dup' }, 'PEER_ID_TAKEN', 'register');
      await expectError(
        intruder,
        { type: 'register', room_id: room, peer_id: 'dup', session_token: 'not-the-token' },
        'PEER_ID_TAKEN',
        'register',
      );
      expect(holder.client.isOpen).toBe(true);
      await expectNothing(holder.client);
      await expectError(intruder, { type: 'discover_peers' }, 'NOT_REGISTERED');
    });

    it('frees the id once its holder leaves', async () => {
      const server = await startServer();
      const room = freshRoom();
      const holder = await peer(server, { room_id: room, peer_id: 'dup' });
      holder.client.send({ type: 'leave' });
      await expectMessage(holder.client, 'left');
      const next = await peer(server, { room_id: freshRoom(), peer_id: 'dup' });
      expect(next.registered.peer_id).toBe('dup');
    });
  });

  it('keeps the connection open after a refused register', async () => {
    const server = await startServer();
    const client = await open(server);
    await expectError(client, { type: 'register' }, 'INVALID_MESSAGE', 'register');
    const ok = await register(client, { room_id: freshRoom(), peer_id: 'late' });
    expectValidServerMessage(ok);
    expect(ok.type).toBe('registered');
  });
});

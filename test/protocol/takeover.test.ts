import { describe, expect, it } from 'vitest';
import { startServer } from '../helpers/harness.js';
import {
  discover,
  discoverIds,
  expectError,
  expectMessage,
  expectNothing,
  freshRoom,
  open,
  peer,
  register,
  waitForConnections,
} from './support.js';

describe('takeover with session_token', () => {
  it('closes the old connection with 4002 and gives the peer id to the new one', async () => {
    const server = await startServer();
    const room = freshRoom();
    const old = await peer(server, { room_id: room, peer_id: 'worker-1', role: 'worker' });
    const other = await peer(server, { room_id: room, peer_id: 'other' });

    const fresh = await open(server);
    const taken = await register(fresh, {
      room_id: room,
      peer_id: 'worker-1',
      role: 'worker',
      session_token: old.registered.session_token,
    });
    expect(taken).toMatchObject({ type: 'registered', peer_id: 'worker-1', room_id: room, peer_list: ['other'] });
    expect((await old.client.closed).code).toBe(4002);
    await waitForConnections(server, 2);

    // The id is held by the new connection: relays reach it, discovery lists it once.
    other.client.send({ type: 'peer_message', to_peer_id: 'worker-1', payload: 'hello' });
    expect(await expectMessage(fresh, 'peer_message')).toEqual({
      type: 'peer_message',
      from_peer_id: 'other',
      to_peer_id: 'worker-1',
      payload: 'hello',
    });
    expect(await discoverIds(other.client)).toEqual(['worker-1']);
    expect(await discoverIds(fresh)).toEqual(['other']);
    await expectNothing(other.client);
  });

  it('is not a leave: presence subscribers get nothing when role and metadata are unchanged', async () => {
    const server = await startServer();
    const room = freshRoom();
    const watch = await peer(server, { room_id: room, peer_id: 'watch', presence: true });
    const old = await peer(server, { room_id: room, peer_id: 'w', role: 'worker', metadata: { tags: ['gpu'] } });
    await expectMessage(watch.client, 'peer_joined');

    const fresh = await open(server);
    const taken = await register(fresh, {
      room_id: room,
      peer_id: 'w',
      role: 'worker',
      metadata: { tags: ['gpu'] },
      session_token: old.registered.session_token,
    });
    expect(taken.type).toBe('registered');
    expect((await old.client.closed).code).toBe(4002);
    await waitForConnections(server, 2);
    await expectNothing(fresh, watch.client);
    expect(await discoverIds(watch.client)).toEqual(['w']);
  });

  it('sends peer_updated (and no peer_left) when the takeover changes role or metadata', async () => {
    const server = await startServer();
    const room = freshRoom();
    const watch = await peer(server, { room_id: room, peer_id: 'watch', presence: true });
    const old = await peer(server, { room_id: room, peer_id: 'w', role: 'worker', metadata: { tags: ['gpu'] } });
    await expectMessage(watch.client, 'peer_joined');

    const fresh = await open(server);
    await register(fresh, {
      room_id: room,
      peer_id: 'w',
      role: 'worker',
      metadata: { tags: ['cpu'] },
      session_token: old.registered.session_token,
    });
    expect(await expectMessage(watch.client, 'peer_updated')).toEqual({
      type: 'peer_updated',
      peer_id: 'w',
      role: 'worker',
      metadata: { tags: ['cpu'] },
    });
    await old.client.closed;
    await waitForConnections(server, 2);
    await expectNothing(watch.client);
  });

  it('into another room is a move: peer_left to the old room, peer_joined to the new one', async () => {
    const server = await startServer();
    const roomA = freshRoom('a');
    const roomB = freshRoom('b');
    const watchA = await peer(server, { room_id: roomA, peer_id: 'watch-a', presence: true });
    const watchB = await peer(server, { room_id: roomB, peer_id: 'watch-b', presence: true });
    const old = await peer(server, { room_id: roomA, peer_id: 'w' });
    await expectMessage(watchA.client, 'peer_joined');

    const fresh = await open(server);
    const taken = await register(fresh, { room_id: roomB, peer_id: 'w', session_token: old.registered.session_token });
    expect(taken).toMatchObject({ type: 'registered', room_id: roomB, peer_list: ['watch-b'] });
    expect((await old.client.closed).code).toBe(4002);
    expect(await expectMessage(watchA.client, 'peer_left')).toEqual({ type: 'peer_left', peer_id: 'w', reason: 'left' });
    expect(await expectMessage(watchB.client, 'peer_joined')).toMatchObject({ peer_id: 'w' });
    await waitForConnections(server, 3);
    await expectNothing(watchA.client, watchB.client);
    expect(await discoverIds(watchA.client)).toEqual([]);
    expect(await discoverIds(watchB.client)).toEqual(['w']);
  });

  it('with a wrong session_token is PEER_ID_TAKEN and the holder keeps the id', async () => {
    const server = await startServer();
    const room = freshRoom();
    const holder = await peer(server, { room_id: room, peer_id: 'w' });
    const other = await peer(server, { room_id: room, peer_id: 'other' });
    const intruder = await open(server);
    await expectError(
      intruder,
      { type: 'register', room_id: room, peer_id: 'w', session_token: `${holder.registered.session_token as string}x` },
      'PEER_ID_TAKEN',
      'register',
    );
    // Another peer's token does not prove this one.
    await expectError(
      intruder,
      { type: 'register', room_id: room, peer_id: 'w', session_token: other.registered.session_token },
      'PEER_ID_TAKEN',
      'register',
    );
    expect(holder.client.isOpen).toBe(true);
    other.client.send({ type: 'peer_message', to_peer_id: 'w', payload: 1 });
    expect(await expectMessage(holder.client, 'peer_message')).toMatchObject({ payload: 1 });
  });

  it('frees the id once the new holder disconnects', async () => {
    const server = await startServer();
    const room = freshRoom();
    const watch = await peer(server, { room_id: room, peer_id: 'watch', presence: true });
    const old = await peer(server, { room_id: room, peer_id: 'w' });
    await expectMessage(watch.client, 'peer_joined');
    const fresh = await open(server);
    await register(fresh, { room_id: room, peer_id: 'w', session_token: old.registered.session_token });
    await old.client.closed;
    await waitForConnections(server, 2);
    // The replaced connection's close did not take the id from its new holder.
    expect(await discoverIds(watch.client)).toEqual(['w']);

    await fresh.close();
    expect(await expectMessage(watch.client, 'peer_left')).toEqual({ type: 'peer_left', peer_id: 'w', reason: 'left' });
    expect(await discoverIds(watch.client)).toEqual([]);
    const again = await peer(server, { room_id: room, peer_id: 'w' });
    expect(again.registered.peer_id).toBe('w');
    expect(again.registered.session_token).not.toBe(old.registered.session_token);
  });

  it('keeps the peer in its place in discovery when taken over in the same room', async () => {
    const server = await startServer();
    const room = freshRoom();
    const old = await peer(server, { room_id: room, peer_id: 'w' });
    await new Promise((r) => setTimeout(r, 3));
    const later = await peer(server, { room_id: room, peer_id: 'later' });
    const before = (await discover(later.client)).peers as { connected_at: number }[];
    const fresh = await open(server);
    await register(fresh, { room_id: room, peer_id: 'w', session_token: old.registered.session_token });
    await old.client.closed;
    const after = (await discover(later.client)).peers as { connected_at: number }[];
    expect(after.map((p) => p.connected_at)).toEqual(before.map((p) => p.connected_at));
  });

  it('is accepted inside a full room (the peer keeps its slot)', async () => {
    const server = await startServer({ limits: { maxPeersPerRoom: 2 } });
    const room = freshRoom();
    const old = await peer(server, { room_id: room, peer_id: 'w' });
    const other = await peer(server, { room_id: room, peer_id: 'other' });
    const fresh = await open(server);
    const taken = await register(fresh, { room_id: room, peer_id: 'w', session_token: old.registered.session_token });
    expect(taken.type).toBe('registered');
    expect((await old.client.closed).code).toBe(4002);
    expect(await discoverIds(other.client)).toEqual(['w']);
  });

  it('by a connection registered under another id is a leave of that id plus the takeover', async () => {
    const server = await startServer();
    const room = freshRoom();
    const watch = await peer(server, { room_id: room, peer_id: 'watch', presence: true });
    const old = await peer(server, { room_id: room, peer_id: 'w', role: 'worker' });
    const mover = await peer(server, { room_id: room, peer_id: 'temp' });
    await expectMessage(watch.client, (m) => m.type === 'peer_joined' && m.peer_id === 'temp');
    watch.client.drain();

    const taken = await register(mover.client, { room_id: room, peer_id: 'w', role: 'worker', session_token: old.registered.session_token });
    expect(taken).toMatchObject({ type: 'registered', peer_id: 'w', peer_list: ['watch'] });
    expect((await old.client.closed).code).toBe(4002);
    expect(await expectMessage(watch.client, 'peer_left')).toEqual({ type: 'peer_left', peer_id: 'temp', reason: 'left' });
    await waitForConnections(server, 2);
    await expectNothing(watch.client, mover.client);
    expect(await discoverIds(watch.client)).toEqual(['w']);
  });
});

import { describe, expect, it } from 'vitest';
import { startServer } from '../helpers/harness.js';
import { expectMessage, expectNothing, freshRoom, open, peer, register, waitForConnections } from './support.js';

describe('presence', () => {
  it('peer_joined {peer_id, role, metadata} goes to subscribers only, never to the peer it is about', async () => {
    const server = await startServer();
    const room = freshRoom();
    const sub = await peer(server, { room_id: room, peer_id: 'sub', presence: true });
    const plain = await peer(server, { room_id: room, peer_id: 'plain' });
    expect(await expectMessage(sub.client, 'peer_joined')).toEqual({ type: 'peer_joined', peer_id: 'plain', role: 'peer', metadata: {} });

    const joiner = await peer(server, { room_id: room, peer_id: 'joiner', role: 'worker', metadata: { tags: ['gpu'] }, presence: true });
    expect(await expectMessage(sub.client, 'peer_joined')).toEqual({
      type: 'peer_joined',
      peer_id: 'joiner',
      role: 'worker',
      metadata: { tags: ['gpu'] },
    });
    await expectNothing(sub.client, plain.client, joiner.client);
  });

  it('does not tell a subscriber about peers of other rooms', async () => {
    const server = await startServer();
    const sub = await peer(server, { room_id: freshRoom('a'), peer_id: 'sub', presence: true });
    const elsewhere = await peer(server, { room_id: freshRoom('b'), peer_id: 'elsewhere' });
    elsewhere.client.send({ type: 'update_metadata', metadata: { x: 1 } });
    await expectMessage(elsewhere.client, 'metadata_updated');
    elsewhere.client.send({ type: 'leave' });
    await expectMessage(elsewhere.client, 'left');
    await expectNothing(sub.client);
  });

  it('peer_updated on update_metadata and on a re-registration that changes role or metadata, not about oneself', async () => {
    const server = await startServer();
    const room = freshRoom();
    const sub = await peer(server, { room_id: room, peer_id: 'sub', presence: true });
    const plain = await peer(server, { room_id: room, peer_id: 'plain' });
    const me = await peer(server, { room_id: room, peer_id: 'me', role: 'worker', presence: true });
    await expectMessage(sub.client, (m) => m.type === 'peer_joined' && m.peer_id === 'me');
    sub.client.drain();

    me.client.send({ type: 'update_metadata', metadata: { tags: ['busy'] } });
    await expectMessage(me.client, 'metadata_updated');
    expect(await expectMessage(sub.client, 'peer_updated')).toEqual({
      type: 'peer_updated',
      peer_id: 'me',
      role: 'worker',
      metadata: { tags: ['busy'] },
    });

    await register(me.client, { room_id: room, peer_id: 'me', role: 'client', metadata: { tags: ['busy'] }, presence: true });
    expect(await expectMessage(sub.client, 'peer_updated')).toEqual({
      type: 'peer_updated',
      peer_id: 'me',
      role: 'client',
      metadata: { tags: ['busy'] },
    });
    // The subscriber "sub" changing itself tells "me", not "sub".
    sub.client.send({ type: 'update_metadata', metadata: { x: 1 } });
    await expectMessage(sub.client, 'metadata_updated');
    expect(await expectMessage(me.client, 'peer_updated')).toMatchObject({ peer_id: 'sub' });
    await expectNothing(sub.client, me.client, plain.client);
  });

  it('no peer_updated for a re-registration that changes neither role nor metadata', async () => {
    const server = await startServer();
    const room = freshRoom();
    const sub = await peer(server, { room_id: room, peer_id: 'sub', presence: true });
    const me = await peer(server, { room_id: room, peer_id: 'me', role: 'worker', metadata: { properties: { a: 1, b: 2 } } });
    await expectMessage(sub.client, 'peer_joined');
    // Same metadata with its keys in another order.
    await register(me.client, { room_id: room, peer_id: 'me', role: 'worker', metadata: { properties: { b: 2, a: 1 } }, is_admin: true });
    await expectNothing(me.client, sub.client);
  });

  it('peer_left with reason "left" on leave and on socket close', async () => {
    const server = await startServer();
    const room = freshRoom();
    const sub = await peer(server, { room_id: room, peer_id: 'sub', presence: true });
    const leaver = await peer(server, { room_id: room, peer_id: 'leaver' });
    const closer = await peer(server, { room_id: room, peer_id: 'closer' });
    const dropper = await peer(server, { room_id: room, peer_id: 'dropper' });
    await expectMessage(sub.client, (m) => m.type === 'peer_joined' && m.peer_id === 'dropper');
    sub.client.drain();

    leaver.client.send({ type: 'leave' });
    expect(await expectMessage(sub.client, 'peer_left')).toEqual({ type: 'peer_left', peer_id: 'leaver', reason: 'left' });
    await closer.client.close();
    expect(await expectMessage(sub.client, 'peer_left')).toEqual({ type: 'peer_left', peer_id: 'closer', reason: 'left' });
    dropper.client.terminate();
    expect(await expectMessage(sub.client, 'peer_left')).toEqual({ type: 'peer_left', peer_id: 'dropper', reason: 'left' });
    await expectNothing(sub.client);
  });

  it('nothing when an unregistered connection closes, or a subscriber leaves itself', async () => {
    const server = await startServer();
    const room = freshRoom();
    const sub = await peer(server, { room_id: room, peer_id: 'sub', presence: true });
    const other = await peer(server, { room_id: room, peer_id: 'other', presence: true });
    await expectMessage(sub.client, 'peer_joined');
    other.client.send({ type: 'leave' });
    await expectMessage(other.client, 'left');
    expect(await expectMessage(sub.client, 'peer_left')).toMatchObject({ peer_id: 'other' });
    // "other" left: it is no longer a subscriber.
    const third = await peer(server, { room_id: room, peer_id: 'third' });
    await expectMessage(sub.client, (m) => m.type === 'peer_joined' && m.peer_id === 'third');
    await third.client.close();
    await expectMessage(sub.client, (m) => m.type === 'peer_left' && m.peer_id === 'third');
    const stranger = await open(server);
    await stranger.close();
    await waitForConnections(server, 2);
    await expectNothing(other.client, sub.client);
  });

  it('a re-registration without presence: true ends the subscription (a full statement)', async () => {
    const server = await startServer();
    const room = freshRoom();
    const sub = await peer(server, { room_id: room, peer_id: 'sub', presence: true });
    await register(sub.client, { room_id: room, peer_id: 'sub' });
    const joiner = await peer(server, { room_id: room, peer_id: 'joiner' });
    joiner.client.send({ type: 'leave' });
    await expectMessage(joiner.client, 'left');
    await expectNothing(sub.client);

    // And presence: true on a re-registration starts one.
    await register(sub.client, { room_id: room, peer_id: 'sub', presence: true });
    await register(joiner.client, { room_id: room, peer_id: 'joiner' });
    expect(await expectMessage(sub.client, 'peer_joined')).toMatchObject({ peer_id: 'joiner' });
  });

  it('a subscriber that moves to another room follows the new room only', async () => {
    const server = await startServer();
    const roomA = freshRoom('a');
    const roomB = freshRoom('b');
    const sub = await peer(server, { room_id: roomA, peer_id: 'sub', presence: true });
    await register(sub.client, { room_id: roomB, peer_id: 'sub', presence: true });
    await peer(server, { room_id: roomA, peer_id: 'in-a' });
    await peer(server, { room_id: roomB, peer_id: 'in-b' });
    expect(await expectMessage(sub.client, 'peer_joined')).toMatchObject({ peer_id: 'in-b' });
    await expectNothing(sub.client);
  });
});

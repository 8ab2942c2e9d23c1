import { describe, expect, it } from 'vitest';
import { startServer } from '../helpers/harness.js';
import { expectMessage, expectNothing, freshRoom, open, peer, register } from './support.js';

describe('admin seat', () => {
  it('goes to the first is_admin registrant, and registered shows it to everyone', async () => {
    const server = await startServer();
    const room = freshRoom();
    const plain = await peer(server, { room_id: room, peer_id: 'plain' });
    expect(plain.registered.admin_peer_id).toBeNull();
    const admin = await peer(server, { room_id: room, peer_id: 'boss', is_admin: true });
    expect(admin.registered.admin_peer_id).toBe('boss');
    const later = await peer(server, { room_id: room, peer_id: 'later' });
    expect(later.registered.admin_peer_id).toBe('boss');
    await expectNothing(admin.client);
  });

  it('sends admin_conflict before registered to a later is_admin registrant, who is still registered', async () => {
    const server = await startServer();
    const room = freshRoom();
    await peer(server, { room_id: room, peer_id: 'boss', is_admin: true });
    const second = await open(server);
    second.send({ type: 'register', room_id: room, peer_id: 'pretender', is_admin: true });
    const registered = await expectMessage(second, 'registered');
    expect(registered).toMatchObject({ peer_id: 'pretender', admin_peer_id: 'boss' });
    expect(second.received.map((m) => m.type)).toEqual(['admin_conflict', 'registered']);
    expect(await expectMessage(second, 'admin_conflict')).toEqual({ type: 'admin_conflict', room_id: room, current_admin: 'boss' });
    // A third registrant still sees the first admin.
    const third = await peer(server, { room_id: room, peer_id: 'third' });
    expect(third.registered.admin_peer_id).toBe('boss');
  });

  it('is per room', async () => {
    const server = await startServer();
    await peer(server, { room_id: freshRoom(), peer_id: 'boss-a', is_admin: true });
    const b = await peer(server, { room_id: freshRoom(), peer_id: 'boss-b', is_admin: true });
    expect(b.registered.admin_peer_id).toBe('boss-b');
    expect(b.client.received.map((m) => m.type)).toEqual(['registered']);
  });

  it('is freed when the admin leaves, until the next is_admin registrant', async () => {
    const server = await startServer();
    const room = freshRoom();
    const admin = await peer(server, { room_id: room, peer_id: 'boss', is_admin: true });
    admin.client.send({ type: 'leave' });
    await expectMessage(admin.client, 'left');
    const plain = await peer(server, { room_id: room, peer_id: 'plain' });
    expect(plain.registered.admin_peer_id).toBeNull();
    const next = await peer(server, { room_id: room, peer_id: 'next', is_admin: true });
    expect(next.registered.admin_peer_id).toBe('next');
    expect(next.client.received.map((m) => m.type)).toEqual(['registered']);
  });

  it('is freed when the admin connection closes', async () => {
    const server = await startServer();
    const room = freshRoom();
    const watch = await peer(server, { room_id: room, peer_id: 'watch', presence: true });
    const admin = await peer(server, { room_id: room, peer_id: 'boss', is_admin: true });
    await expectMessage(watch.client, 'peer_joined');
    await admin.client.close();
    await expectMessage(watch.client, 'peer_left');
    const next = await peer(server, { room_id: room, peer_id: 'next', is_admin: true });
    expect(next.registered.admin_peer_id).toBe('next');
    expect(next.client.received.map((m) => m.type)).toEqual(['registered']);
  });

  it('is given up by re-registering with is_admin false (or without is_admin), silently', async () => {
    const server = await startServer();
    const room = freshRoom();
    const watch = await peer(server, { room_id: room, peer_id: 'watch', presence: true });
    const admin = await peer(server, { room_id: room, peer_id: 'boss', is_admin: true });
    await expectMessage(watch.client, 'peer_joined');

    const again = await register(admin.client, { room_id: room, peer_id: 'boss', is_admin: false });
    expect(again.admin_peer_id).toBeNull();
    const next = await peer(server, { room_id: room, peer_id: 'next', is_admin: true });
    expect(next.registered.admin_peer_id).toBe('next');
    await expectMessage(watch.client, (m) => m.type === 'peer_joined' && m.peer_id === 'next');

    // Omitting is_admin is the same statement as is_admin: false.
    const dropped = await register(next.client, { room_id: room, peer_id: 'next' });
    expect(dropped.admin_peer_id).toBeNull();
    // Admin changes are not announced.
    await expectNothing(watch.client);
  });

  it('is kept by an admin that re-registers with is_admin true, with no admin_conflict', async () => {
    const server = await startServer();
    const room = freshRoom();
    const admin = await peer(server, { room_id: room, peer_id: 'boss', is_admin: true });
    const again = await register(admin.client, { room_id: room, peer_id: 'boss', is_admin: true, role: 'worker' });
    expect(again.admin_peer_id).toBe('boss');
    await expectNothing(admin.client);
    expect(admin.client.received.map((m) => m.type)).toEqual(['registered', 'registered', 'pong']);
  });

  it('can be claimed by an existing peer re-registering with is_admin true once the seat is free', async () => {
    const server = await startServer();
    const room = freshRoom();
    const a = await peer(server, { room_id: room, peer_id: 'a' });
    const again = await register(a.client, { room_id: room, peer_id: 'a', is_admin: true });
    expect(again.admin_peer_id).toBe('a');
    const b = await peer(server, { room_id: room, peer_id: 'b', is_admin: true });
    expect(b.registered.admin_peer_id).toBe('a');
    expect(b.client.received.map((m) => m.type)).toEqual(['admin_conflict', 'registered']);
  });

  it('is freed when the admin moves to another room', async () => {
    const server = await startServer();
    const room = freshRoom();
    const admin = await peer(server, { room_id: room, peer_id: 'boss', is_admin: true });
    const moved = await register(admin.client, { room_id: freshRoom('elsewhere'), peer_id: 'boss', is_admin: true });
    expect(moved.admin_peer_id).toBe('boss');
    const next = await peer(server, { room_id: room, peer_id: 'next', is_admin: true });
    expect(next.registered.admin_peer_id).toBe('next');
    expect(next.client.received.map((m) => m.type)).toEqual(['registered']);
  });
});

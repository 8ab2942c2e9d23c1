import { describe, expect, it } from 'vitest';
import { startServer } from '../helpers/harness.js';
import { discover, discoverIds, expectError, expectMessage, freshRoom, injectPeer, open, peer } from './support.js';

describe('discover_peers', () => {
  it('lists the other peers of the room with peer_id, role, metadata, connected_at and a count', async () => {
    const server = await startServer();
    const room = freshRoom();
    const t0 = Date.now() / 1000;
    await peer(server, { room_id: room, peer_id: 'w1', role: 'worker', metadata: { tags: ['gpu'], properties: { mem: 16 } } });
    const me = await peer(server, { room_id: room, peer_id: 'me', role: 'client' });
    const t1 = Date.now() / 1000;
    const reply = await discover(me.client);
    expect(Object.keys(reply).sort()).toEqual(['count', 'peers', 'type']);
    expect(reply.count).toBe(1);
    expect(reply.peers).toEqual([
      { peer_id: 'w1', role: 'worker', metadata: { tags: ['gpu'], properties: { mem: 16 } }, connected_at: expect.any(Number) },
    ]);
    const at = (reply.peers as { connected_at: number }[])[0]!.connected_at;
    // Unix time in seconds (not milliseconds).
    expect(at).toBeGreaterThanOrEqual(t0 - 1);
    expect(at).toBeLessThanOrEqual(t1 + 1);
  });

  it('returns an empty list with count 0 for a peer alone in its room', async () => {
    const server = await startServer();
    const me = await peer(server, { room_id: freshRoom() });
    const reply = await discover(me.client);
    expect(reply).toEqual({ type: 'peer_list', peers: [], count: 0 });
  });

  it('sorts by connected_at, not by peer id', async () => {
    const server = await startServer();
    const room = freshRoom();
    for (const id of ['zed', 'mid', 'alpha']) {
      await peer(server, { room_id: room, peer_id: id });
      await new Promise((r) => setTimeout(r, 3));
    }
    const me = await peer(server, { room_id: room, peer_id: 'me' });
    const reply = await discover(me.client);
    const peers = reply.peers as { peer_id: string; connected_at: number }[];
    expect(peers.map((p) => p.peer_id)).toEqual(['zed', 'mid', 'alpha']);
    expect(peers[0]!.connected_at).toBeLessThan(peers[1]!.connected_at);
    expect(peers[1]!.connected_at).toBeLessThan(peers[2]!.connected_at);
  });

  it('breaks connected_at ties by peer id (code unit order)', async () => {
    const server = await startServer();
    const room = freshRoom();
    const me = await peer(server, { room_id: room, peer_id: 'me' });
    const at = Date.now() / 1000 - 60;
    for (const id of ['b', 'B', 'a', 'aa', '\u{1F600}', '\uFFFD']) await injectPeer(server, { peerId: id, roomId: room, connectedAt: at });
    await injectPeer(server, { peerId: 'earlier', roomId: room, connectedAt: at - 1 });
    // U+1F600 is the surrogate pair D83D DE00, which sorts before U+FFFD by code unit.
    expect(await discoverIds(me.client)).toEqual(['earlier', 'B', 'a', 'aa', 'b', '\u{1F600}', '\uFFFD']);
    const late = await peer(server, { room_id: room, peer_id: 'late' });
    expect(late.registered.peer_list).toEqual(['earlier', 'B', 'a', 'aa', 'b', '\u{1F600}', '\uFFFD', 'me']);
  });

  it('stays within the sender\'s room; unknown filter keys such as room_id are ignored', async () => {
    const server = await startServer();
    const roomA = freshRoom('a');
    const roomB = freshRoom('b');
    await peer(server, { room_id: roomA, peer_id: 'a1' });
    const me = await peer(server, { room_id: roomA, peer_id: 'me' });
    await peer(server, { room_id: roomB, peer_id: 'b1' });
    expect(await discoverIds(me.client)).toEqual(['a1']);
    expect(await discoverIds(me.client, { room_id: roomB })).toEqual(['a1']);
    expect(await discoverIds(me.client, { room_id: roomB, color: 'blue', limit: 0 })).toEqual(['a1']);
  });

  it('treats missing, null and empty filters as no constraint', async () => {
    const server = await startServer();
    const room = freshRoom();
    await peer(server, { room_id: room, peer_id: 'p1', role: 'worker', metadata: { tags: ['gpu'] } });
    await peer(server, { room_id: room, peer_id: 'p2' });
    const me = await peer(server, { room_id: room, peer_id: 'me' });
    expect(await discoverIds(me.client)).toEqual(['p1', 'p2']);
    expect(await discoverIds(me.client, null)).toEqual(['p1', 'p2']);
    expect(await discoverIds(me.client, {})).toEqual(['p1', 'p2']);
    expect(await discoverIds(me.client, { role: null, tags: null, properties: null })).toEqual(['p1', 'p2']);
    expect(await discoverIds(me.client, { tags: [] })).toEqual(['p1', 'p2']);
    expect(await discoverIds(me.client, { properties: {} })).toEqual(['p1', 'p2']);
  });

  it('no longer lists peers that left or disconnected', async () => {
    const server = await startServer();
    const room = freshRoom();
    const leaver = await peer(server, { room_id: room, peer_id: 'leaver' });
    const closer = await peer(server, { room_id: room, peer_id: 'closer' });
    const me = await peer(server, { room_id: room, peer_id: 'me', presence: true });
    expect(await discoverIds(me.client)).toEqual(['leaver', 'closer']);
    leaver.client.send({ type: 'leave' });
    await expectMessage(leaver.client, 'left');
    expect(await discoverIds(me.client)).toEqual(['closer']);
    await closer.client.close();
    await expectMessage(me.client, (m) => m.type === 'peer_left' && m.peer_id === 'closer');
    expect(await discoverIds(me.client)).toEqual([]);
  });

  it('is refused before register (NOT_REGISTERED) and for malformed filters (INVALID_MESSAGE)', async () => {
    const server = await startServer();
    const stranger = await open(server);
    await expectError(stranger, { type: 'discover_peers' }, 'NOT_REGISTERED');
    const me = await peer(server, { room_id: freshRoom() });
    await expectError(me.client, { type: 'discover_peers', filters: 'gpu' }, 'INVALID_MESSAGE');
    await expectError(me.client, { type: 'discover_peers', filters: { role: 3 } }, 'INVALID_MESSAGE');
    await expectError(me.client, { type: 'discover_peers', filters: { tags: 'gpu' } }, 'INVALID_MESSAGE');
    await expectError(me.client, { type: 'discover_peers', filters: { tags: [1] } }, 'INVALID_MESSAGE');
    await expectError(me.client, { type: 'discover_peers', filters: { properties: [] } }, 'INVALID_MESSAGE');
    // Still works afterwards.
    expect(await discoverIds(me.client)).toEqual([]);
  });
});

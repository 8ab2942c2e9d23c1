import { describe, expect, it } from 'vitest';
import { freshRoom, registeredPeer, startServer, type SignalClient } from '../helpers/harness.js';

/**
 * Slow consumer: a client that stops reading must not grow the server's memory. Once what the
 * server has buffered for it passes sendBufferLimitBytes it is closed with 4001, its
 * registration ends, and everyone else keeps being served.
 */

const BUFFER_LIMIT = 64 * 1024;
// The sender floods on purpose: neither its frames nor its bytes are what these tests limit.
const UNLIMITED_SENDER = { limits: { ratePerSecond: 100_000, rateBurst: 100_000 }, byteRate: { perSecond: 1e12, burst: 1e12 } };
const CONFIG = { sendBufferLimitBytes: BUFFER_LIMIT, ...UNLIMITED_SENDER };
const WAIT = 5000;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function socketOf(client: SignalClient): { pause(): void; resume(): void } {
  return (client.ws as unknown as { _socket: { pause(): void; resume(): void } })._socket;
}

describe('slow consumer', () => {
  it('a client that stops reading is closed with 4001; others keep being served; its registration is removed', async () => {
    const server = await startServer(CONFIG);
    const room = freshRoom('slow');
    const { client: slow } = await registeredPeer(server, { room_id: room, peer_id: 'slow' });
    const { client: sender } = await registeredPeer(server, { room_id: room, peer_id: 'sender' });
    const { client: watcher } = await registeredPeer(server, { room_id: room, peer_id: 'watcher', presence: true });
    const { client: other } = await registeredPeer(server, { room_id: room, peer_id: 'other' });

    socketOf(slow).pause();
    // 16 MiB for the slow peer in 16 KiB messages (each well below the buffer limit): far more
    // than loopback socket buffers plus the 64 KiB limit can hold.
    const payload = 'z'.repeat(16 * 1024);
    for (let round = 1; round <= 64; round++) {
      for (let i = 0; i < 16; i++) sender.send({ type: 'peer_message', to_peer_id: 'slow', payload });
      // Meanwhile the other peers are served promptly.
      sender.send({ type: 'peer_message', to_peer_id: 'other', payload: { round } });
      const got = await other.next('peer_message', WAIT);
      expect(got.payload).toEqual({ round });
    }
    // Once cut off, relays to it are refused (PEER_NOT_FOUND) rather than swallowed.
    sender.send({ type: 'ping' });
    expect(await sender.next('pong', WAIT)).toEqual({ type: 'pong' });

    // Resume reading: after what was buffered, the close code is 4001.
    socketOf(slow).resume();
    const closed = await slow.closed;
    expect(closed.code).toBe(4001);
    // It got far less than was sent: the server stopped queueing for it.
    const delivered = slow.received.filter((m) => m.type === 'peer_message').length;
    expect(delivered).toBeLessThan(64 * 16);

    // Its registration is gone: presence says it left, discovery no longer lists it, relays fail.
    const left = await watcher.next((m) => m.type === 'peer_left' && m.peer_id === 'slow', WAIT);
    expect(left).toEqual({ type: 'peer_left', peer_id: 'slow', reason: 'left' });
    const refused = sender.drain().filter((m) => m.type === 'error');
    expect(refused.every((m) => m.code === 'PEER_NOT_FOUND')).toBe(true);
    const list = await sender.request({ type: 'discover_peers' }, 'peer_list', WAIT);
    expect((list.peers as Array<{ peer_id: string }>).map((p) => p.peer_id).sort()).toEqual(['other', 'watcher']);
    const err = await sender.request({ type: 'peer_message', to_peer_id: 'slow', payload: 1 }, '__none__', WAIT);
    expect(err).toMatchObject({ type: 'error', code: 'PEER_NOT_FOUND', request_type: 'peer_message' });

    // The other peers are still served.
    other.send({ type: 'offer', target: 'watcher', sdp: 'v=0' });
    expect(await watcher.next('offer', WAIT)).toEqual({ type: 'offer', target: 'watcher', sdp: 'v=0', sender: 'other' });
    expect(sender.drain().filter((m) => m.type === 'error' && m.code !== 'PEER_NOT_FOUND')).toEqual([]);
    expect(sender.isOpen && other.isOpen && watcher.isOpen).toBe(true);
  });

  it('a cut-off slow consumer leaves discovery at once, without waiting for it to read again', async () => {
    // The server gave up on it: it must not linger in discovery, nor swallow relays as
    // "delivered", for as long as the unread socket takes to finish its closing handshake.
    const server = await startServer(CONFIG);
    const room = freshRoom('slow-linger');
    const { client: slow } = await registeredPeer(server, { room_id: room, peer_id: 'slow' });
    const { client: sender } = await registeredPeer(server, { room_id: room, peer_id: 'sender' });
    const { client: watcher } = await registeredPeer(server, { room_id: room, peer_id: 'watcher', presence: true });
    socketOf(slow).pause();
    const payload = 'z'.repeat(16 * 1024);
    for (let round = 1; round <= 64; round++) {
      for (let i = 0; i < 16; i++) sender.send({ type: 'peer_message', to_peer_id: 'slow', payload });
      sender.send({ type: 'ping' });
      await sender.next('pong', WAIT); // paced: the server keeps up
    }
    // 16 MiB were sent (the cut-off comes after about 4 MiB on loopback). Still paused:
    const left = await watcher.next((m) => m.type === 'peer_left' && m.peer_id === 'slow', 2000).catch((e: Error) => e);
    sender.drain();
    const list = await sender.request({ type: 'discover_peers' }, 'peer_list', WAIT);
    const listed = (list.peers as Array<{ peer_id: string }>).map((p) => p.peer_id);
    socketOf(slow).resume();
    expect((await slow.closed).code).toBe(4001);
    expect(listed).not.toContain('slow');
    expect(left).toEqual({ type: 'peer_left', peer_id: 'slow', reason: 'left' });
  });

  it('a client that keeps reading is never cut off, however much it is sent', async () => {
    const server = await startServer(CONFIG);
    const room = freshRoom('fast');
    const { client: reader } = await registeredPeer(server, { room_id: room, peer_id: 'reader' });
    const { client: sender } = await registeredPeer(server, { room_id: room, peer_id: 'sender' });
    const payload = 'y'.repeat(16 * 1024);
    const total = 256; // 4 MiB in all, 64× the buffer limit, at the pace the sender can send
    for (let i = 0; i < total; i++) {
      sender.send({ type: 'peer_message', to_peer_id: 'reader', payload });
      if (i % 16 === 15) await sleep(5);
    }
    let received = 0;
    while (received < total) {
      await reader.next('peer_message', WAIT);
      received++;
    }
    expect(reader.isOpen).toBe(true);
    expect(reader.closeCode).toBeNull();
  });

  it('a reading client is not closed with 4001 for one reply larger than the buffer limit', async () => {
    // 4001 means "did not read its messages"; a client that reads everything at once must not
    // get it just because one relayed message is bigger than sendBufferLimitBytes.
    const server = await startServer(CONFIG);
    const room = freshRoom('big');
    const { client: reader } = await registeredPeer(server, { room_id: room, peer_id: 'reader' });
    const { client: sender } = await registeredPeer(server, { room_id: room, peer_id: 'sender' });
    const payload = 'b'.repeat(BUFFER_LIMIT + 1024);
    sender.send({ type: 'peer_message', to_peer_id: 'reader', payload });
    const got = await reader.next('peer_message', WAIT).catch((e: Error) => e);
    expect(reader.closeCode).toBeNull();
    expect(got).not.toBeInstanceOf(Error);
  });

  it('with default settings, a client that reads is not cut off for a large but legal registered reply', async () => {
    // Within the protocol's limits (1,000 peers a room, 16 KiB of metadata each) the reply to
    // register (peer_metadata of the whole room) or discover_peers can exceed the default 4 MiB
    // send-buffer limit. A client that reads must still get it, not a 4001.
    const server = await startServer(UNLIMITED_SENDER);
    const room = freshRoom('big-room');
    const blob = 'm'.repeat(16 * 1024 - 64);
    const peers = 270; // 270 × ~16 KiB ≈ 4.2 MiB of metadata
    const clients: SignalClient[] = [];
    for (let i = 0; i < peers; i++) {
      const { client } = await registeredPeer(server, { room_id: room, peer_id: `p${i}` });
      clients.push(client);
    }
    await Promise.all(
      clients.map(async (c) => {
        const r = await c.request({ type: 'update_metadata', metadata: { blob } }, 'metadata_updated', WAIT);
        expect(r.type).toBe('metadata_updated');
      }),
    );
    const outcome = await registeredPeer(server, { room_id: room, peer_id: 'late' }).then(
      ({ client, registered }) => ({ open: client.isOpen, peers: (registered.peer_list as string[]).length }),
      (e: Error) => ({ failed: e.message }),
    );
    expect(outcome).toEqual({ open: true, peers });
  });
});

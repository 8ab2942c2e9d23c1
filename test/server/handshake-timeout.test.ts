import { connect as tcpConnect } from 'node:net';
import { describe, expect, it } from 'vitest';
import { registeredPeer, startServer } from '../helpers/harness.js';

describe('handshake timeout', () => {
  it('cuts a client that never finishes its upgrade request, and keeps serving others', async () => {
    const server = await startServer({ handshakeTimeoutMs: 500 });
    const socket = tcpConnect(server.address.port, '127.0.0.1');
    await new Promise((resolve) => socket.once('connect', resolve));
    // Half an upgrade request, then silence (slowloris).
    socket.write('GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\n');
    const started = Date.now();
    const closed = await new Promise<number>((resolve) => socket.once('close', () => resolve(Date.now() - started)));
    expect(closed).toBeGreaterThanOrEqual(400);
    expect(closed).toBeLessThan(5000);
    const peer = await registeredPeer(server, { room_id: 'after-slowloris', peer_id: 'ok' });
    expect(peer.registered.peer_id).toBe('ok');
  });

  it('leaves a finished WebSocket connection open past the handshake timeout', async () => {
    const server = await startServer({ handshakeTimeoutMs: 300 });
    const peer = await registeredPeer(server, { room_id: 'long', peer_id: 'stays' });
    await new Promise((r) => setTimeout(r, 1200));
    expect(peer.client.isOpen).toBe(true);
    expect((await peer.client.request({ type: 'ping' }, 'pong')).type).toBe('pong');
  });
});

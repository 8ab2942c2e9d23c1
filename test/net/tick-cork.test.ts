import { describe, expect, it } from 'vitest';
import { TickCork } from '../../src/net/tick-cork.js';

/** A socket that records what was done to it, in order. */
function recordingSocket() {
  const calls: string[] = [];
  return { calls, cork: () => void calls.push('cork'), uncork: () => void calls.push('uncork') };
}

const nextTick = () => new Promise<void>((resolve) => process.nextTick(resolve));

describe('TickCork', () => {
  it('corks once for all the writes of a tick and uncorks after it, then again for the next tick', async () => {
    const socket = recordingSocket();
    const cork = new TickCork(socket);
    cork.hold();
    cork.hold();
    cork.hold();
    expect(socket.calls).toEqual(['cork']);
    await nextTick();
    expect(socket.calls).toEqual(['cork', 'uncork']);
    cork.hold();
    expect(socket.calls).toEqual(['cork', 'uncork', 'cork']);
    await nextTick();
    expect(socket.calls).toEqual(['cork', 'uncork', 'cork', 'uncork']);
  });

  it('a real socket gets the frames of one tick in one write, in order', async () => {
    const { createServer, connect } = await import('node:net');
    const reads: string[] = [];
    const server = createServer((s) => s.on('data', (d) => reads.push(d.toString())));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const port = (server.address() as { port: number }).port;
    const client = connect(port, '127.0.0.1');
    await new Promise<void>((resolve) => client.once('connect', resolve));
    const writes: number[] = [];
    const original = client._writev!.bind(client);
    client._writev = (chunks, cb) => {
      writes.push(chunks.length);
      original(chunks, cb);
    };
    const cork = new TickCork(client);
    for (const part of ['a', 'b', 'c']) {
      cork.hold();
      client.write(part);
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(writes).toEqual([3]);
    expect(reads.join('')).toBe('abc');
    client.destroy();
    await new Promise((resolve) => server.close(resolve));
  });
});

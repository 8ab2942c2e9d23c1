import { describe, expect, it } from 'vitest';
import { connect, freshRoom, registeredPeer, startServer, type SignalClient } from '../helpers/harness.js';

/**
 * What one connection can make the server parse is bounded by bytes, not only by frames: before
 * registration frames are small and few bytes a second are taken; after it, a byte bucket.
 * The review's attack: 1 MiB frames of nested JSON from a connection with no credential, ~150 ms of
 * CPU each, while a bystander's round trip grew to 484 ms.
 */

const WAIT = 5000;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** About `bytes` of JSON nested `[[[[...]]]]` inside a register message. */
function nestedRegister(bytes: number): string {
  const depth = Math.floor(bytes / 2) - 40;
  return `{"type":"register","room_id":"r","metadata":{"x":${'['.repeat(depth)}${']'.repeat(depth)}}}`;
}

async function rttMs(client: SignalClient): Promise<number> {
  const t = performance.now();
  await client.request({ type: 'ping' }, 'pong', WAIT);
  return performance.now() - t;
}

describe('the cost of parsing is bounded per connection', () => {
  it('refuses large frames from a connection that has not registered, unparsed, and a bystander is not held up', async () => {
    const server = await startServer();
    const bystander = await registeredPeer(server, { room_id: freshRoom('by'), peer_id: 'bystander' });
    const attacker = await connect(server);
    const frame = nestedRegister(1024 * 1024 - 64);
    const rtts: number[] = [];
    for (let i = 0; i < 6; i++) {
      attacker.sendRaw(frame);
      rtts.push(await rttMs(bystander.client));
    }
    await sleep(100);
    const replies = attacker.drain();
    // Each is refused unparsed: too large for a connection that has not registered, or past its
    // small byte budget (RATE_LIMITED, a few replies a second at most).
    expect(replies.length).toBeGreaterThanOrEqual(1);
    for (const m of replies) expect(['INVALID_MESSAGE', 'RATE_LIMITED']).toContain(m.code);
    // Each unparsed refusal costs next to nothing; parsing one such frame took ~150-500 ms.
    expect(Math.max(...rtts)).toBeLessThan(250);
    // A frame within the byte budget but over the frame cap (64 KiB) is refused as such.
    await sleep(1100);
    attacker.sendRaw(nestedRegister(100 * 1024));
    const tooLarge = await attacker.next('error', WAIT);
    expect(tooLarge).toMatchObject({ code: 'INVALID_MESSAGE' });
    expect(String(tooLarge.message)).toContain('before registration are limited to 65536 bytes');
    // The attacker may still register with an ordinary frame.
    expect((await attacker.request({ type: 'register', room_id: freshRoom(), peer_id: 'late' }, 'registered', WAIT)).type).toBe('registered');
  });

  it('limits the bytes a registered connection sends per second, not only its frames', async () => {
    const server = await startServer({ byteRate: { perSecond: 256 * 1024, burst: 1024 * 1024 } });
    const room = freshRoom('bytes');
    const sender = await registeredPeer(server, { room_id: room, peer_id: 's' });
    const target = await registeredPeer(server, { room_id: room, peer_id: 't' });
    const big = 'x'.repeat(400 * 1024);
    // 4 × 400 KiB: the bucket (1 MiB, at least one largest frame) takes two at once, then refuses.
    for (let i = 0; i < 4; i++) sender.client.send({ type: 'peer_message', to_peer_id: 't', payload: { i, big } });
    await sleep(300);
    const got = target.client.drain().filter((m) => m.type === 'peer_message');
    expect(got.length).toBeGreaterThanOrEqual(2);
    expect(got.length).toBeLessThan(4);
    const limited = sender.client.drain().filter((m) => m.type === 'error');
    expect(limited.length).toBeGreaterThanOrEqual(1);
    expect(limited[0]).toMatchObject({ code: 'RATE_LIMITED', message: 'too many bytes; slow down' });
    // Small messages still pass at the frame rate once bytes have refilled a little.
    await sleep(100);
    sender.client.send({ type: 'peer_message', to_peer_id: 't', payload: 'small' });
    expect((await target.client.next('peer_message', WAIT)).payload).toBe('small');
  });
});

import { describe, expect, it } from 'vitest';
import { connect, freshRoom, registeredPeer, startServer, type ServerMessage, type SignalClient } from '../helpers/harness.js';

/**
 * Per-connection rate limit: a token bucket (ratePerSecond sustained, rateBurst at once, starts
 * full) checked before a frame is parsed. Dropped frames get RATE_LIMITED (no request_type), at
 * most 10 such replies a second; the rest are dropped silently. One flooding client does not
 * hold up the others.
 */

const LIMITS = { ratePerSecond: 20, rateBurst: 40 };
const WAIT = 5000;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function expectRateLimited(m: ServerMessage): void {
  expect(m.type).toBe('error');
  expect(m.code).toBe('RATE_LIMITED');
  expect(typeof m.message).toBe('string');
  expect(m.reason).toBe(m.message);
  expect(m).not.toHaveProperty('request_type');
}

/** Lets the replies arrive, then returns (and consumes) everything received. */
async function collectUntilQuiet(client: SignalClient, settleMs = 300): Promise<ServerMessage[]> {
  await sleep(settleMs);
  return client.drain();
}

describe('rate limit', () => {
  it('the bucket starts full: the first burst is served, the rest is RATE_LIMITED without request_type', async () => {
    const server = await startServer({ limits: LIMITS });
    const c = await connect(server);
    const started = performance.now();
    for (let i = 0; i < 120; i++) c.send({ type: 'ping' });
    const got = await collectUntilQuiet(c);
    const elapsed = (performance.now() - started) / 1000;
    const pongs = got.filter((m) => m.type === 'pong');
    const limited = got.filter((m) => m.type === 'error');
    // The whole burst was served at once; refill adds at most ratePerSecond × elapsed.
    expect(pongs.length).toBeGreaterThanOrEqual(LIMITS.rateBurst);
    expect(pongs.length).toBeLessThanOrEqual(LIMITS.rateBurst + Math.ceil(LIMITS.ratePerSecond * elapsed) + 1);
    // The first 40 replies are all pongs (the burst), before any RATE_LIMITED.
    expect(got.slice(0, LIMITS.rateBurst).every((m) => m.type === 'pong')).toBe(true);
    // Dropped frames are answered, but at most 10 a second.
    expect(limited.length).toBeGreaterThanOrEqual(1);
    expect(limited.length).toBeLessThanOrEqual(10 + Math.ceil(10 * elapsed) + 1);
    limited.forEach(expectRateLimited);
    expect(got.length).toBe(pongs.length + limited.length);

    // The connection stays open and is served again once tokens are back.
    await sleep(250); // ≥ 5 tokens at 20/s
    expect(await c.request({ type: 'ping' }, 'pong', WAIT)).toEqual({ type: 'pong' });
    expect(c.isOpen).toBe(true);
  });

  it('a sustained flood gets at most about 10 RATE_LIMITED replies a second, and keeps getting them', async () => {
    const server = await startServer({ limits: LIMITS });
    const room = freshRoom('rl');
    const { client: c } = await registeredPeer(server, { room_id: room, peer_id: 'flooder' });
    const started = performance.now();
    const floodMs = 1500;
    let sent = 0;
    while (performance.now() - started < floodMs) {
      for (let i = 0; i < 20; i++) {
        // A mix: valid, invalid and binary frames all count.
        if (i % 3 === 0) c.send({ type: 'discover_peers' });
        else if (i % 3 === 1) c.sendRaw('not json');
        else c.sendRaw(Buffer.from([1, 2, 3]), true);
        sent++;
      }
      await sleep(10);
    }
    const got = await collectUntilQuiet(c, 300);
    const elapsed = (performance.now() - started) / 1000;
    const limited = got.filter((m) => m.type === 'error' && m.code === 'RATE_LIMITED');
    const served = got.length - limited.length;
    expect(sent).toBeGreaterThan(500);
    limited.forEach(expectRateLimited);
    // At most 10 a second (the reply bucket may start full: +10), at least a few each second.
    expect(limited.length).toBeLessThanOrEqual(10 * Math.ceil(elapsed) + 10 + 1);
    expect(limited.length).toBeGreaterThanOrEqual(10);
    const lateLimited = got.slice(-Math.max(1, Math.floor(got.length / 3))).filter((m) => m.code === 'RATE_LIMITED');
    expect(lateLimited.length).toBeGreaterThan(0);
    // Served frames: the burst plus the sustained rate, no more.
    expect(served).toBeGreaterThanOrEqual(LIMITS.rateBurst);
    expect(served).toBeLessThanOrEqual(LIMITS.rateBurst + Math.ceil(LIMITS.ratePerSecond * elapsed) + 2);
    expect(c.isOpen).toBe(true);
  });

  it('dropped frames are not applied: a flood of relays delivers only what the bucket allowed', async () => {
    const server = await startServer({ limits: LIMITS });
    const room = freshRoom('rl-relay');
    const { client: a } = await registeredPeer(server, { room_id: room, peer_id: 'a' });
    const { client: b } = await registeredPeer(server, { room_id: room, peer_id: 'b' });
    const started = performance.now();
    for (let i = 0; i < 150; i++) a.send({ type: 'peer_message', to_peer_id: 'b', payload: i });
    await sleep(300);
    const elapsed = (performance.now() - started) / 1000;
    const relayed = b.drain().filter((m) => m.type === 'peer_message');
    expect(relayed.length).toBeGreaterThanOrEqual(LIMITS.rateBurst - 1); // the register took one token
    expect(relayed.length).toBeLessThanOrEqual(LIMITS.rateBurst + Math.ceil(LIMITS.ratePerSecond * elapsed) + 1);
    // In order, no gaps inside the served prefix.
    expect(relayed.slice(0, 30).map((m) => m.payload)).toEqual(Array.from({ length: 30 }, (_, i) => i));
    const toA = a.drain();
    expect(toA.length).toBeGreaterThan(0);
    toA.forEach(expectRateLimited);
  });

  it('invalid and binary frames use up the allowance too', async () => {
    const server = await startServer({ limits: LIMITS });
    const c = await connect(server);
    for (let i = 0; i < LIMITS.rateBurst / 2; i++) c.sendRaw(Buffer.from('x'), true);
    for (let i = 0; i < LIMITS.rateBurst / 2; i++) c.sendRaw('{not json');
    for (let i = 0; i < 10; i++) c.send({ type: 'ping' });
    const got = await collectUntilQuiet(c, 200);
    expect(got.slice(0, LIMITS.rateBurst / 2).map((m) => m.code)).toEqual(Array(LIMITS.rateBurst / 2).fill('INVALID_MESSAGE'));
    expect(got.slice(LIMITS.rateBurst / 2, LIMITS.rateBurst).map((m) => m.code)).toEqual(Array(LIMITS.rateBurst / 2).fill('INVALID_JSON'));
    // The pings came after the burst was spent: had the bad frames been free, all 10 would be
    // answered with pong. At most a token or two refilled meanwhile.
    const after = got.slice(LIMITS.rateBurst);
    expect(after.filter((m) => m.type === 'pong').length).toBeLessThanOrEqual(2);
    const limited = after.filter((m) => m.type === 'error');
    expect(limited.length).toBeGreaterThanOrEqual(8);
    limited.forEach(expectRateLimited);
  });

  it('a flooding client does not delay another client\'s relays', async () => {
    const server = await startServer({ limits: LIMITS });
    const room = freshRoom('rl-fair');
    const { client: flooder } = await registeredPeer(server, { room_id: room, peer_id: 'flooder' });
    const { client: sender } = await registeredPeer(server, { room_id: room, peer_id: 'sender' });
    const { client: receiver } = await registeredPeer(server, { room_id: room, peer_id: 'receiver' });

    let flooding = true;
    const flood = (async () => {
      const payload = 'f'.repeat(512);
      while (flooding) {
        for (let i = 0; i < 100; i++) flooder.send({ type: 'peer_message', to_peer_id: 'receiver', payload });
        await sleep(5);
      }
    })();

    try {
      await sleep(100); // the flood is under way
      const delays: number[] = [];
      for (let i = 0; i < 10; i++) {
        const t0 = performance.now();
        sender.send({ type: 'peer_message', to_peer_id: 'receiver', payload: { n: i } });
        await receiver.next((m) => m.type === 'peer_message' && m.from_peer_id === 'sender' && (m.payload as { n?: number })?.n === i, WAIT);
        delays.push(performance.now() - t0);
        await sleep(40); // well within the sender's own 20/s
      }
      // Generous bound: a loaded 2-core machine, client and server in one process.
      expect(Math.max(...delays)).toBeLessThan(1500);
      // The sender was never rate limited itself.
      expect(sender.drain().filter((m) => m.type === 'error')).toEqual([]);
    } finally {
      flooding = false;
      await flood;
    }
    // The flooder was limited: it got RATE_LIMITED, and the receiver got only part of its flood.
    expect(flooder.drain().some((m) => m.code === 'RATE_LIMITED')).toBe(true);
  });
});

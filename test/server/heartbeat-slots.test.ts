import { describe, expect, it } from 'vitest';
import { Heartbeat } from '../../src/server/heartbeat.js';
import { Connection } from '../../src/server/connection.js';

/** Just what the heartbeat touches of a connection. */
function fakeConnection(pings: Map<object, number>): Connection {
  const conn = {
    closed: false,
    alive: true,
    registration: null,
    heartbeatSlot: 0,
    ping: () => pings.set(conn, (pings.get(conn) ?? 0) + 1),
    send: () => true,
    terminate: () => {},
  };
  return conn as unknown as Connection;
}

describe('heartbeat slots', () => {
  it('spreads a burst of connections so no visit pings more than about 1.5 times the average', () => {
    const heartbeat = new Heartbeat(1000); // 20 slots of 50 ms
    const pings = new Map<object, number>();
    const conns = Array.from({ length: 2000 }, () => fakeConnection(pings));
    for (const c of conns) heartbeat.add(c);
    const sizes = new Map<number, number>();
    for (const c of conns) sizes.set(c.heartbeatSlot, (sizes.get(c.heartbeatSlot) ?? 0) + 1);
    expect(Math.max(...sizes.values())).toBeLessThanOrEqual(Math.ceil((2000 / 20) * 1.5) + 8);
    expect(sizes.size).toBeGreaterThanOrEqual(Math.ceil(2000 / (Math.ceil((2000 / 20) * 1.5) + 8)));
  });

  it('visits every connection once per interval, one slot per tick, and stops visiting removed ones', async () => {
    const heartbeat = new Heartbeat(400); // 8 slots of 50 ms
    const pings = new Map<object, number>();
    const conns = Array.from({ length: 40 }, () => fakeConnection(pings));
    for (const c of conns) heartbeat.add(c);
    heartbeat.remove(conns[0]!);
    heartbeat.start();
    try {
      // One round is 8 ticks (~400 ms); stop as soon as it is complete, whatever the timer drift on
      // a loaded machine (a slot is next visited a full round later).
      const end = Date.now() + 3000;
      while (pings.size < conns.length - 1 && Date.now() < end) await new Promise((r) => setTimeout(r, 5));
    } finally {
      heartbeat.stop();
    }
    expect(pings.get(conns[0]!)).toBeUndefined();
    for (const c of conns.slice(1)) expect(pings.get(c), `slot ${c.heartbeatSlot}`).toBe(1);
  });
});

describe('a heartbeat visit', () => {
  it('sends the protocol ping and the application ping in one write (the socket corked around both)', async () => {
    const calls: string[] = [];
    const socket = { cork: () => calls.push('cork'), uncork: () => calls.push('uncork') };
    const ws = { bufferedAmount: 0, ping: () => calls.push('ping'), send: (frame: string) => calls.push(`send ${frame}`) };
    const limits = { ratePerSecond: 10, rateBurst: 10, bytesPerSecond: 1e6, bytesBurst: 1e6, unregisteredBytesPerSecond: 1e6, sendBufferLimitBytes: 1e6 };
    const conn = new Connection('c1', ws as never, socket, '127.0.0.1', limits as never);
    conn.registration = { peerId: 'p', roomId: 'r' } as never;
    const heartbeat = new Heartbeat(50); // one slot
    heartbeat.add(conn);
    heartbeat.start();
    try {
      const end = Date.now() + 3000;
      while (!calls.includes('uncork') && Date.now() < end) await new Promise((r) => setTimeout(r, 5));
    } finally {
      heartbeat.stop();
    }
    expect(calls.slice(0, 4)).toEqual(['cork', 'ping', 'send {"type":"ping"}', 'uncork']);
  });
});

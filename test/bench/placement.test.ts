import { describe, expect, it } from 'vitest';
import { place, PORTS_PER_SOURCE, sourcePlan } from '../../src/bench/placement.js';
import { roomSizes } from '../../src/bench/room-sizes.js';
import { splitRooms } from '../../src/bench/thread-split.js';
import { validateScenario } from '../../src/bench/scenario/load.js';

const scenario = (raw: Record<string, unknown>) => validateScenario(raw, { source: 'test' }).scenario;

/** Share of relay streams (weighted like the placement) whose ends are on different URLs, computed here independently. */
function crossShare(peers: ReturnType<typeof place>['peers'], fanout = false): number {
  let cross = 0;
  let total = 0;
  for (const p of peers) {
    for (const t of p.targets) {
      const w = fanout ? 1 : 1 / p.targets.length;
      total += w;
      if (peers[t]!.url !== p.url) cross += w;
    }
  }
  return cross / total;
}

describe('rooms and roles', () => {
  it('spreads peers evenly, or zipf-like with the first room largest', () => {
    expect(roomSizes(scenario({ peers: 10, rooms: 3 }))).toEqual([4, 3, 3]);
    const zipf = roomSizes(scenario({ peers: 100, rooms: 5, room_spread: 'zipf' }));
    expect(zipf.reduce((a, b) => a + b, 0)).toBe(100);
    expect(zipf[0]).toBeGreaterThan(zipf[4]!);
    expect(Math.min(...zipf)).toBeGreaterThanOrEqual(2);
    expect([...zipf].sort((a, b) => b - a)).toEqual(zipf);
  });

  it('gives every room workers and clients by the worker share', () => {
    const { peers, rooms } = place(scenario({ peers: 50, rooms: 5, roles: { worker_share: 0.2 }, traffic: { pattern: 'worker-client' } }), 1, 'x');
    for (const members of rooms) {
      expect(members.filter((m) => peers[m]!.role === 'worker')).toHaveLength(2);
      expect(new Set(members.map((m) => peers[m]!.roomId)).size).toBe(1);
    }
    // Clients relay to a worker of their room; workers to their clients.
    for (const p of peers) {
      expect(p.targets.length).toBeGreaterThan(0);
      for (const t of p.targets) {
        expect(peers[t]!.room).toBe(p.room);
        expect(peers[t]!.role).not.toBe(p.role);
      }
    }
    expect(new Set(peers.map((p) => p.peerId)).size).toBe(50);
  });

  it('pairs peers symmetrically inside their room', () => {
    const { peers } = place(scenario({ peers: 20, rooms: 2 }), 1, 'x');
    for (const p of peers) {
      expect(p.targets).toHaveLength(1);
      expect(peers[p.targets[0]!]!.targets).toEqual([p.index]);
    }
  });
});

describe('placement over several URLs', () => {
  it.each([0, 0.25, 0.5, 1])('pairs: %s of the relays cross instances', (share) => {
    const s = scenario({ peers: 400, rooms: 10, cross_instance_share: share });
    const placement = place(s, 2, 'x');
    expect(crossShare(placement.peers)).toBeCloseTo(share, 2);
    expect(placement.expectedCrossShare).toBeCloseTo(share, 2);
    // Both instances get a fair share of the peers.
    expect(Math.abs(placement.perUrl[0]! - placement.perUrl[1]!)).toBeLessThanOrEqual(400 * 0.2 + 2);
  });

  it('worker-client: clients sit with their worker unless chosen to cross', () => {
    const s = scenario({ peers: 300, rooms: 10, roles: { worker_share: 0.2 }, cross_instance_share: 0.3, traffic: { pattern: 'worker-client' } });
    const placement = place(s, 3, 'x');
    expect(crossShare(placement.peers)).toBeCloseTo(0.3, 1);
    expect(placement.perUrl.every((n) => n > 50)).toBe(true);
  });

  it('fanout: as close to the share as room sizes allow', () => {
    const s = scenario({ peers: 200, rooms: 10, cross_instance_share: 0.4, traffic: { pattern: 'fanout', rate: 1 } });
    const placement = place(s, 2, 'x');
    expect(Math.abs(crossShare(placement.peers, true) - 0.4)).toBeLessThan(0.05);
    expect(placement.expectedCrossShare).toBeCloseTo(crossShare(placement.peers, true), 6);
  });

  it('one URL: nothing crosses', () => {
    const placement = place(scenario({ peers: 40, cross_instance_share: 1 }), 1, 'x');
    expect(placement.expectedCrossShare).toBe(0);
    expect(placement.peers.every((p) => p.url === 0)).toBe(true);
  });

  it('url_spread "room" keeps each room at home except the peers placed across', () => {
    const placement = place(scenario({ peers: 100, rooms: 4, url_spread: 'room', cross_instance_share: 0 }), 2, 'x');
    for (const members of placement.rooms) expect(new Set(members.map((m) => placement.peers[m]!.url)).size).toBe(1);
  });
});

describe('source addresses', () => {
  it('spread over 127.0.0.x beyond PORTS_PER_SOURCE connections to one loopback target', () => {
    expect(sourcePlan('auto', [PORTS_PER_SOURCE], ['ws://127.0.0.1:8080'])).toEqual([[]]);
    expect(sourcePlan('auto', [PORTS_PER_SOURCE * 2 + 1], ['ws://127.0.0.1:8080'])).toEqual([['127.0.0.1', '127.0.0.2', '127.0.0.3']]);
    expect(sourcePlan('auto', [60_000], ['ws://signal.example.org'])).toEqual([[]]);
    expect(sourcePlan(['10.0.0.2', '10.0.0.3'], [10], ['ws://a'])).toEqual([['10.0.0.2', '10.0.0.3']]);
  });

  it('are assigned round robin to the peers of each target', () => {
    const { peers } = place(scenario({ peers: 4 }), 1, 'x', ['10.0.0.2', '10.0.0.3'], ['ws://a:1']);
    expect(peers.map((p) => p.localAddress)).toEqual(['10.0.0.2', '10.0.0.3', '10.0.0.2', '10.0.0.3']);
  });
});

describe('splitting over generator threads', () => {
  it('keeps rooms whole and balances peers', () => {
    const placement = place(scenario({ peers: 1000, rooms: 37, room_spread: 'zipf' }), 1, 'x');
    const shards = splitRooms(placement, 2);
    expect(shards).toHaveLength(2);
    expect(shards[0]!.length + shards[1]!.length).toBe(1000);
    const roomsOf = shards.map((s) => new Set(s.map((p) => p.room)));
    for (const r of roomsOf[0]!) expect(roomsOf[1]!.has(r)).toBe(false);
    expect(Math.abs(shards[0]!.length - shards[1]!.length)).toBeLessThan(200);
  });
});

import type { Scenario } from './scenario/scenario.js';

/**
 * How many peers each room gets: even (sizes differ by at most one) or zipf (a few large rooms,
 * many small), never above the server's room limit. Placement fills the rooms; the scenario
 * checks refuse sizes that cannot run.
 */

type RoomSpec = Pick<Scenario, 'peers' | 'rooms' | 'roomSpread' | 'server'>;

/** Size of every room, in room order. */
export function roomSizes(s: RoomSpec): number[] {
  if (s.roomSpread === 'zipf') return zipfSizes(s.peers, s.rooms, s.server.maxPeersPerRoom);
  const base = Math.floor(s.peers / s.rooms);
  const extra = s.peers % s.rooms;
  return Array.from({ length: s.rooms }, (_, k) => base + (k < extra ? 1 : 0));
}

/** Largest room the placement will make (zipf makes the first room the largest). */
export function largestRoom(s: RoomSpec): number {
  if (s.roomSpread === 'even') return Math.ceil(s.peers / s.rooms);
  return zipfSizes(s.peers, s.rooms, s.server.maxPeersPerRoom)[0] ?? 0;
}

/** Smallest room the placement will make. */
export function smallestRoom(s: RoomSpec): number {
  return s.roomSpread === 'even' ? Math.floor(s.peers / s.rooms) : Math.min(...zipfSizes(s.peers, s.rooms, s.server.maxPeersPerRoom));
}

/** Room sizes proportional to 1/(k+1), each at least min(2, ...) and at most `cap`, summing to `peers`. */
function zipfSizes(peers: number, rooms: number, cap: number): number[] {
  const weights = Array.from({ length: rooms }, (_, k) => 1 / (k + 1));
  const total = weights.reduce((a, b) => a + b, 0);
  const floor = Math.min(2, Math.floor(peers / rooms));
  const sizes = weights.map((w) => Math.min(cap, Math.max(floor, Math.floor((peers * w) / total))));
  let sum = sizes.reduce((a, b) => a + b, 0);
  for (let k = 0; sum < peers; k = (k + 1) % rooms) {
    if (sizes.every((s) => s >= cap)) break;
    if (sizes[k]! < cap) {
      sizes[k]!++;
      sum++;
    }
  }
  for (let k = 0; sum > peers; k = (k + 1) % rooms) {
    if (sizes[k]! > floor) {
      sizes[k]!--;
      sum--;
    }
  }
  return sizes;
}

import { availableParallelism } from 'node:os';
import type { PeerPlan, Placement } from './placement.js';

/** How a run is split over generator threads: whole rooms per thread, the threads about equally loaded. */

/** Threads to use when none are asked for: one for small runs, up to two for large ones. */
export function defaultThreads(peers: number): number {
  return peers >= 5000 ? Math.min(2, availableParallelism()) : 1;
}

/** Splits whole rooms over `n` shards, largest rooms first onto the least loaded shard. */
export function splitRooms(placement: Placement, n: number): PeerPlan[][] {
  const shards: PeerPlan[][] = Array.from({ length: n }, () => []);
  const load = new Array<number>(n).fill(0);
  const order = placement.rooms.map((members, r) => ({ r, size: members.length })).sort((a, b) => b.size - a.size || a.r - b.r);
  const assigned = new Array<number>(placement.rooms.length);
  for (const { r, size } of order) {
    let best = 0;
    for (let k = 1; k < n; k++) if (load[k]! < load[best]!) best = k;
    assigned[r] = best;
    load[best]! += size;
  }
  for (const plan of placement.peers) shards[assigned[plan.room]!]!.push(plan);
  return shards.filter((s) => s.length > 0);
}

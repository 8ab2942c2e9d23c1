import type { Random } from '../random.js';

/**
 * Where a displaced peer reconnects: one of the other instances, at random, as a client with a
 * list of URLs (or a load balancer that checks health) would. Instances the bench faulted are
 * skipped while another remains, and so is the one the last attempt failed on.
 */
export function pickInstance(count: number, gone: ReadonlySet<number>, lastTried: number, random: Random): number {
  const all = Array.from({ length: count }, (_, i) => i);
  const choices = [all.filter((i) => !gone.has(i) && i !== lastTried), all.filter((i) => !gone.has(i)), all.filter((i) => i !== lastTried), all];
  const pool = choices.find((c) => c.length > 0)!;
  return pool[random.int(pool.length)]!;
}

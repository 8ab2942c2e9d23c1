/** A map is not pruned below this size. */
const PRUNE_FLOOR = 1024;

/**
 * A map of records that go stale with time (expired rooms, keys, ownerships). Whenever it has
 * doubled since it was last pruned, stale entries are dropped: amortised O(1) per insert, and
 * stale entries never outnumber live ones by much.
 */
export class PruningMap<K, V> extends Map<K, V> {
  private pruneAt = PRUNE_FLOOR;

  constructor(private readonly isStale: (value: V, now: number) => boolean) {
    super();
  }

  put(key: K, value: V, now: number): void {
    this.set(key, value);
    if (this.size < this.pruneAt) return;
    for (const [k, v] of this) if (this.isStale(v, now)) this.delete(k);
    this.pruneAt = Math.max(PRUNE_FLOOR, this.size * 2);
  }
}

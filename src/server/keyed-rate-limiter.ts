/** A rate: `ratePerSecond` sustained, `burst` at once. */
export interface Rate {
  readonly ratePerSecond: number;
  readonly burst: number;
}

export type Admission = { readonly ok: true } | { readonly ok: false; readonly retryAfterSeconds: number };

interface Bucket {
  tokens: number;
  /** performance.now() of the last update. */
  at: number;
}

/**
 * Token buckets by key (a client address, a credential subject), each starting full. Buckets that
 * have refilled are forgotten now and then, so the map holds only recent callers.
 */
export class KeyedRateLimiter {
  private readonly buckets = new Map<string, Bucket>();
  private lastSweep: number;

  constructor(
    private readonly rate: Rate,
    private readonly now: () => number = performance.now.bind(performance),
  ) {
    this.lastSweep = this.now();
  }

  /** Takes a token from the bucket of every key if each has one; otherwise takes none and says when to retry. */
  take(keys: readonly string[]): Admission {
    const t = this.now();
    this.sweep(t);
    const levels = keys.map((key) => this.level(key, t));
    const lowest = Math.min(...levels);
    if (lowest < 1) return { ok: false, retryAfterSeconds: Math.max(1, Math.ceil((1 - lowest) / this.rate.ratePerSecond)) };
    keys.forEach((key, i) => this.buckets.set(key, { tokens: levels[i]! - 1, at: t }));
    return { ok: true };
  }

  private level(key: string, t: number): number {
    const bucket = this.buckets.get(key);
    if (bucket === undefined) return this.rate.burst;
    return Math.min(this.rate.burst, bucket.tokens + ((t - bucket.at) / 1000) * this.rate.ratePerSecond);
  }

  /** At most once a minute: drops full buckets (a full bucket is the same as none). */
  private sweep(t: number): void {
    if (t - this.lastSweep < 60_000) return;
    this.lastSweep = t;
    for (const key of [...this.buckets.keys()]) {
      if (this.level(key, t) >= this.rate.burst) this.buckets.delete(key);
    }
  }
}

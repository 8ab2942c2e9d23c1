/**
 * Refuses an expiry that is not a whole number of Unix milliseconds (a fraction, NaN, or beyond
 * what Redis expiries take), before a backend writes anything.
 */
export function requireWholeMs(at: number, what: string): void {
  if (!Number.isSafeInteger(at) || at <= 0) throw new RangeError(`${what} must be whole Unix milliseconds, got ${at}`);
}

/** How long a created room or an API key may live, as callers ask for it in seconds. */
export interface LifetimeBounds {
  readonly minSeconds: number;
  readonly maxSeconds: number;
  /** How the bounds read in an error message. */
  readonly text: string;
}

export const ROOM_LIFETIME: LifetimeBounds = Object.freeze({ minSeconds: 1, maxSeconds: 30 * 86_400, text: '1 s to 30 days' });
export const API_KEY_LIFETIME: LifetimeBounds = Object.freeze({ minSeconds: 1, maxSeconds: 365 * 86_400, text: '1 s to 365 days' });

/** A checked lifetime in whole milliseconds (what Redis expiries take), or why the value was refused. */
export type Lifetime = { readonly ok: true; readonly ms: number } | { readonly ok: false; readonly error: string };

/** `seconds`, any JSON value, as whole milliseconds within `bounds` (fractions of a millisecond are rounded). */
export function lifetimeMs(seconds: unknown, bounds: LifetimeBounds): Lifetime {
  const refused: Lifetime = { ok: false, error: `expires_in must be a number of seconds, ${bounds.text}` };
  if (typeof seconds !== 'number' || !Number.isFinite(seconds)) return refused;
  const ms = Math.round(seconds * 1000);
  return ms >= bounds.minSeconds * 1000 && ms <= bounds.maxSeconds * 1000 ? { ok: true, ms } : refused;
}

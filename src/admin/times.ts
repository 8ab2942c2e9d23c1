/**
 * ISO 8601 (UTC) of a Unix ms time, or null. Rounded to the millisecond: a time kept as Unix
 * seconds with a fraction comes back from `seconds * 1000` a hair off, and `Date` would truncate
 * it to the millisecond before.
 */
export function isoTime(ms: number | null): string | null {
  return ms === null || !Number.isFinite(ms) ? null : new Date(Math.round(ms)).toISOString();
}

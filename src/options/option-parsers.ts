import { InvalidArgumentError } from 'commander';
import { durationMs, durationText } from './duration.js';

/** Parsers for option values; each throws commander's InvalidArgumentError (exit 2 upstream) on bad input. */

export function parseInteger(min: number, max = Number.MAX_SAFE_INTEGER) {
  return (value: string): number => {
    if (!/^\d+$/.test(value.trim())) throw new InvalidArgumentError(`expected a whole number, got "${value}"`);
    const n = Number(value);
    if (n < min || n > max) throw new InvalidArgumentError(`expected a number from ${min} to ${max}, got ${n}`);
    return n;
  };
}

/** "30s", "500ms", "2m", "1h"; a bare number is seconds. Returns milliseconds. */
export function parseDuration(value: string): number {
  const ms = durationMs(value, 's');
  if (ms === null) throw new InvalidArgumentError(`expected a duration like 30s, 500ms, 2m; got "${value}"`);
  return Math.round(ms);
}

/** "10s", "500ms"; a bare number is seconds. Kept as text with its unit, as scenario files write it. */
export function parseDurationText(value: string): string {
  const text = durationText(value, 's');
  if (text === null) throw new InvalidArgumentError(`expected a duration like 10s, 500ms, 2m; got "${value}"`);
  return text;
}

/** A number from `min` to `max`, fractions allowed. */
export function parseNumber(min: number, max = Number.MAX_VALUE) {
  return (value: string): number => {
    const n = Number(value);
    if (value.trim() === '' || !Number.isFinite(n)) throw new InvalidArgumentError(`expected a number, got "${value}"`);
    if (n < min || n > max) throw new InvalidArgumentError(`expected a number from ${min} to ${max}, got ${n}`);
    return n;
  };
}

const SIZE_UNITS: Record<string, number> = {
  '': 1,
  b: 1,
  k: 1000,
  kb: 1000,
  kib: 1024,
  m: 1000 ** 2,
  mb: 1000 ** 2,
  mib: 1024 ** 2,
  g: 1000 ** 3,
  gb: 1000 ** 3,
  gib: 1024 ** 3,
};

/** "1MiB", "4mb", "65536". Returns bytes. */
export function parseSize(value: string): number {
  const m = /^(\d+(?:\.\d+)?)\s*([a-z]*)$/i.exec(value.trim());
  const unit = m ? SIZE_UNITS[m[2]!.toLowerCase()] : undefined;
  if (!m || unit === undefined) throw new InvalidArgumentError(`expected a size like 1MiB, 64KiB, 65536; got "${value}"`);
  const bytes = Math.round(Number(m[1]) * unit);
  if (bytes < 1) throw new InvalidArgumentError(`size must be at least 1 byte, got "${value}"`);
  return bytes;
}

/** "100" or "100:200" (messages per second, burst). */
export function parseRateLimit(value: string): { perSecond: number; burst: number } {
  const m = /^(\d+(?:\.\d+)?)(?::(\d+))?$/.exec(value.trim());
  if (!m) throw new InvalidArgumentError(`expected RATE or RATE:BURST like 100:200; got "${value}"`);
  const perSecond = Number(m[1]);
  const burst = m[2] !== undefined ? Number(m[2]) : Math.max(1, Math.ceil(perSecond * 2));
  if (perSecond <= 0 || burst < 1) throw new InvalidArgumentError(`rate and burst must be positive; got "${value}"`);
  return { perSecond, burst };
}

/** "1MiB" or "1MiB:2MiB" (bytes per second, burst; the burst defaults to two seconds' worth). */
export function parseByteRate(value: string): { perSecond: number; burst: number } {
  const [rate, burst, ...rest] = value.split(':');
  if (rest.length > 0 || rate === undefined) throw new InvalidArgumentError(`expected SIZE or SIZE:BURST like 1MiB:2MiB; got "${value}"`);
  const perSecond = parseSize(rate);
  return { perSecond, burst: burst !== undefined ? parseSize(burst) : perSecond * 2 };
}

export function parseChoice<T extends string>(choices: readonly T[]) {
  return (value: string): T => {
    if (!(choices as readonly string[]).includes(value)) {
      throw new InvalidArgumentError(`expected one of ${choices.join(', ')}; got "${value}"`);
    }
    return value as T;
  };
}

/** A comma-separated list (`a,b, c`), blanks dropped. */
export function parseList(value: string): string[] {
  return value
    .split(',')
    .map((item) => item.trim())
    .filter(Boolean);
}

/**
 * The one grammar of durations, for flags, config files, scenario files and thresholds: a number
 * and a unit (`500ms`, `10s`, `1.5m`, `2h`, `30d`, `250us`). Flags also take a bare number, in
 * seconds; files always name the unit.
 */

const UNIT_MS = { us: 0.001, ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 } as const;

export type DurationUnit = keyof typeof UNIT_MS;

export const DURATION_UNITS = Object.keys(UNIT_MS) as readonly DurationUnit[];

/** The units as alternatives of a regular expression: `us|ms|s|m|h|d`. */
export const DURATION_UNIT_PATTERN = DURATION_UNITS.join('|');

/** A duration with its unit, anchored: the pattern of duration fields in JSON Schemas. */
export const DURATION_PATTERN = `^\\d+(\\.\\d+)?(${DURATION_UNIT_PATTERN})$`;

const DURATION = new RegExp(`^(\\d+(?:\\.\\d+)?)(${DURATION_UNIT_PATTERN})?$`);

export function isDurationUnit(unit: string): unit is DurationUnit {
  return Object.hasOwn(UNIT_MS, unit);
}

/** Milliseconds in one `unit`. */
export function unitMs(unit: DurationUnit): number {
  return UNIT_MS[unit];
}

/** Number and unit of a duration (surrounding blanks ignored); a bare number takes `bareUnit`, or is no duration without one. */
function split(text: string, bareUnit: DurationUnit | null): { value: string; unit: DurationUnit } | null {
  const m = DURATION.exec(text.trim());
  const unit = (m?.[2] as DurationUnit | undefined) ?? bareUnit;
  return m && unit !== null ? { value: m[1]!, unit } : null;
}

/** "10s" → 10000; null when `text` is not a duration. */
export function durationMs(text: string, bareUnit: DurationUnit | null = null): number | null {
  const d = split(text, bareUnit);
  return d === null ? null : Number(d.value) * UNIT_MS[d.unit];
}

/** The duration written with its unit ("10" → "10s" when bare numbers are seconds); null when `text` is not a duration. */
export function durationText(text: string, bareUnit: DurationUnit | null = null): string | null {
  const d = split(text, bareUnit);
  return d === null ? null : `${d.value}${d.unit}`;
}

/**
 * What every JSON document the CLI prints has in common: fields in snake_case, times as ISO 8601
 * UTC strings, and this header first. Fields may be added without raising `schema_version`; a
 * rename or removal raises it.
 */
export const JSON_SCHEMA_VERSION = 1;

export function documentHeader(now = Date.now()): { schema_version: number; generated_at: string } {
  return { schema_version: JSON_SCHEMA_VERSION, generated_at: new Date(now).toISOString() };
}

/** Unix seconds (as the HTTP API gives them) as an ISO time; null stays null. */
export function isoFromSeconds(seconds: number | null): string | null {
  return seconds === null ? null : new Date(seconds * 1000).toISOString();
}

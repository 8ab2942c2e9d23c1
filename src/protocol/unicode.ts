/**
 * Ids must be well-formed UTF-16: an unpaired surrogate becomes U+FFFD once encoded as UTF-8 (as
 * Redis keys are), so two different ids would name the same room or peer there.
 */

/** `String.prototype.isWellFormed` (Node 20; ES2024, beyond the ES2023 lib types). */
export function isWellFormed(text: string): boolean {
  return (text as string & { isWellFormed(): boolean }).isWellFormed();
}

/**
 * The same rule as a JSON Schema `pattern`: every surrogate is part of a pair. It means the same
 * with and without the regular expression `u` flag.
 */
export const WELL_FORMED_PATTERN = '^(?:[^\\ud800-\\udfff]|[\\ud800-\\udbff][\\udc00-\\udfff])*$';

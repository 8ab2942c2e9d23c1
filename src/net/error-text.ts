/**
 * An error as one line for an operator. Node's fetch fails with "fetch failed" and the reason only
 * in its cause (ECONNREFUSED 127.0.0.1:8080, a TLS error, ...): the cause is named too. An
 * AggregateError (every address of a host refused) reads as its first error.
 */
export function errorText(err: unknown): string {
  if (err instanceof AggregateError && err.errors.length > 0) return errorText(err.errors[0]);
  if (!(err instanceof Error)) return String(err);
  const message = err.message || err.name;
  const cause = (err as { cause?: unknown }).cause;
  if (cause === undefined || cause === null) return message;
  const code = (cause as { code?: unknown }).code;
  const causeText = errorText(cause);
  const detail = typeof code === 'string' && !causeText.includes(code) ? `${code}: ${causeText}` : causeText;
  if (message.includes(causeText)) return message;
  return causeText.includes(message) ? detail : `${message} (${detail})`;
}

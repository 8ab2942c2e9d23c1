/** Longest close reason a WebSocket close frame carries. */
const MAX_CLOSE_REASON_BYTES = 123;

/** A close reason given to an operator removal: a string that fits a close frame. */
export function checkCloseReason(value: unknown): { ok: true; reason: string } | { ok: false; error: string } {
  if (typeof value !== 'string') return { ok: false, error: 'reason must be a string' };
  if (Buffer.byteLength(value, 'utf8') > MAX_CLOSE_REASON_BYTES) return { ok: false, error: `reason: at most ${MAX_CLOSE_REASON_BYTES} bytes (a WebSocket close reason)` };
  return { ok: true, reason: value };
}

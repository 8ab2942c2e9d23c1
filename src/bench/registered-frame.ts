/**
 * The `registered` reply as the bench reads it: recognised without parsing (it lists the whole
 * room, kilobytes the generator mostly has no use for), its session token found by a byte search,
 * and its peer list parsed only when a reconnecting peer asks for it.
 */

/**
 * How this project's server starts `registered` (and `registered_auth`). Another server's key order
 * falls through to the full parse.
 */
const REGISTERED_PREFIX = Buffer.from('{"type":"registered');
const SESSION_TOKEN_KEY = Buffer.from('"session_token":"');

/** `{"type":"registered"` or `{"type":"registered_auth"` at the start of a frame. */
export function isRegisteredFrame(data: Buffer): boolean {
  const n = REGISTERED_PREFIX.length;
  if (data.length <= n || data.compare(REGISTERED_PREFIX, 0, n, 0, n) !== 0) return false;
  const next = data[n];
  return next === 0x22 /* " */ || (next === 0x5f /* _ */ && data.toString('latin1', n, n + 6) === '_auth"');
}

/** The session token of a `registered` frame (a plain string of URL-safe characters), or null. */
export function sessionTokenOf(data: Buffer): string | null {
  const at = data.indexOf(SESSION_TOKEN_KEY);
  if (at < 0) return null;
  const start = at + SESSION_TOKEN_KEY.length;
  const end = data.indexOf(0x22 /* " */, start);
  return end > start ? data.toString('latin1', start, end) : null;
}

/** The `peer_list` of a `registered` frame; null when the frame is not one. */
export function peerListOf(data: Buffer): string[] | null {
  try {
    const msg = JSON.parse(data.toString('utf8')) as { peer_list?: unknown };
    return Array.isArray(msg.peer_list) ? msg.peer_list.filter((p): p is string => typeof p === 'string') : null;
  } catch {
    return null;
  }
}

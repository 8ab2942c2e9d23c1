import { hashSecret } from '../../auth/secrets.js';
import type { PeerRecord } from '../state-backend.js';

/**
 * A peer record as Redis keeps it in its room: without the session token. The token proves a
 * takeover, so Redis holds only its hash, in the peer's key (sessionHash).
 */
export function storedRecordJson(record: PeerRecord): string {
  return JSON.stringify({ ...record, sessionToken: '' });
}

/** The hash of a session token as Redis keeps it; '' for no token. */
export function sessionHash(token: string | null): string {
  return token === null || token === '' ? '' : hashSecret(token);
}

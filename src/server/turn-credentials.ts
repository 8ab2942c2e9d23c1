import { createHmac } from 'node:crypto';

/** Shared-secret TURN settings: the secret coturn knows as --static-auth-secret, and where it listens. */
export interface TurnConfig {
  readonly secret: string;
  /** turn: / turns: URLs handed to every peer with its credential. */
  readonly urls: readonly string[];
  /** How long a minted credential stays valid. */
  readonly ttlSeconds: number;
}

export interface TurnCredential {
  /** `<unix expiry>:<peer_id>` */
  readonly username: string;
  /** base64(HMAC-SHA1(secret, username)) */
  readonly credential: string;
  /** Unix seconds after which the TURN server refuses it. */
  readonly expiresAt: number;
}

/**
 * A time-limited TURN credential in the "TURN REST API" convention (draft-uberti-behave-turn-rest),
 * which coturn checks with --use-auth-secret: the server recomputes the HMAC from the username and
 * refuses it once the expiry in the username has passed. Nothing is stored anywhere.
 */
export function mintTurnCredential(secret: string, peerId: string, ttlSeconds: number, nowMs: number = Date.now()): TurnCredential {
  const expiresAt = Math.floor(nowMs / 1000) + ttlSeconds;
  const username = `${expiresAt}:${peerId}`;
  const credential = createHmac('sha1', secret).update(username, 'utf8').digest('base64');
  return { username, credential, expiresAt };
}

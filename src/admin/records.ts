import { hashSecret, newApiKey, randomSecret } from '../auth/secrets.js';
import type { ApiKeyRecord, RoomRecord } from '../state/state-backend.js';

/** A new API key: the record to store (hash only) and the key, shown once. */
export function newApiKeyRecord(roomId: string, name: string, expiresInSeconds: number | null): { record: ApiKeyRecord; key: string } {
  const { id, key, hash } = newApiKey();
  const now = Date.now();
  return {
    key,
    record: { id, hash, roomId, name, createdAt: now, expiresAt: expiresInSeconds ? now + expiresInSeconds * 1000 : null, revokedAt: null },
  };
}

/** A new room with its token: the record to store (hash only) and the token, shown once. */
export function newRoomRecord(roomId: string | null, expiresInMs: number): { record: RoomRecord; token: string } {
  const token = randomSecret(24);
  const now = Date.now();
  return { token, record: { roomId: roomId ?? `room-${randomSecret(9)}`, tokenHash: hashSecret(token), createdAt: now, expiresAt: now + expiresInMs } };
}

/** An API key as tools and endpoints show it: never the secret or its hash. Times in Unix seconds. */
export interface PublicApiKey {
  id: string;
  room_id: string;
  name: string;
  created_at: number;
  expires_at: number | null;
  revoked_at: number | null;
}

export function publicKey(k: ApiKeyRecord): PublicApiKey {
  const seconds = (ms: number | null) => (ms === null ? null : Math.floor(ms / 1000));
  return { id: k.id, room_id: k.roomId, name: k.name, created_at: seconds(k.createdAt)!, expires_at: seconds(k.expiresAt), revoked_at: seconds(k.revokedAt) };
}

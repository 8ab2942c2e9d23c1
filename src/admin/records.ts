import { hashSecret, newApiKey, randomSecret } from '../auth/secrets.js';
import type { ApiKeyRecord, RecordStore, RoomRecord } from '../state/state-backend.js';

/**
 * A new API key: the record to store (hash only) and the key, shown once. `lifetimeMs` is a
 * checked lifetime (see lifetimes.ts), null for no expiry; `roomCreator` see ApiKeyRecord.
 */
export function newApiKeyRecord(
  roomId: string,
  name: string,
  lifetimeMs: number | null,
  roomCreator: string | null,
): { record: ApiKeyRecord; key: string } {
  const { id, key, hash } = newApiKey();
  const now = Date.now();
  return {
    key,
    record: { id, hash, roomId, name, createdAt: now, expiresAt: lifetimeMs === null ? null : now + lifetimeMs, revokedAt: null, roomCreator },
  };
}

/**
 * Creates and stores an API key for `roomId`, remembering who created that room: while the key is
 * live, the room id is kept for that creator (or the operator) should the room expire or be deleted.
 */
export async function issueApiKey(
  state: Pick<RecordStore, 'getRoom' | 'putApiKey'>,
  roomId: string,
  name: string,
  lifetimeMs: number | null,
): Promise<{ record: ApiKeyRecord; key: string }> {
  const room = await state.getRoom(roomId);
  const issued = newApiKeyRecord(roomId, name, lifetimeMs, room?.createdBy ?? null);
  await state.putApiKey(issued.record);
  return issued;
}

/**
 * A new room with its token: the record to store (hash only) and the token, shown once.
 * `createdBy`: the credential subject creating it, null for the operator.
 */
export function newRoomRecord(roomId: string | null, lifetimeMs: number, createdBy: string | null): { record: RoomRecord; token: string } {
  const token = randomSecret(24);
  const now = Date.now();
  return {
    token,
    record: { roomId: roomId ?? `room-${randomSecret(9)}`, tokenHash: hashSecret(token), createdAt: now, expiresAt: now + lifetimeMs, createdBy },
  };
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

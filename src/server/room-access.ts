import type { ApiKeyRecord, RoomRecord } from '../state/state-backend.js';
import { actsAsOperator, type Caller } from './caller.js';

/**
 * Whether `caller` may delete a room or kick its peers: the operator, or the subject that created
 * the room's live record. A room without a record (open rooms, expired or deleted ones) is the
 * operator's alone.
 */
export function mayManageRoom(caller: Caller, room: RoomRecord | null): boolean {
  return actsAsOperator(caller) || (caller.kind === 'subject' && room?.createdBy === caller.subject);
}

/** The keys of `keys` that hold `roomId` for their workers: bound to it, neither revoked nor expired. */
export function liveKeysOf(keys: readonly ApiKeyRecord[], roomId: string, now: number): ApiKeyRecord[] {
  return keys.filter((k) => k.roomId === roomId && k.revokedAt === null && (k.expiresAt === null || k.expiresAt > now));
}

/**
 * Whether `caller` may create a room id that has no live record while `boundKeys` (live keys
 * bound to it) exist: the operator, or the subject that created the room every one of them was
 * issued for. Otherwise the workers would join whoever took the id.
 */
export function mayCreateReservedRoom(caller: Caller, boundKeys: readonly ApiKeyRecord[]): boolean {
  return actsAsOperator(caller) || boundKeys.every((k) => caller.kind === 'subject' && k.roomCreator === caller.subject);
}

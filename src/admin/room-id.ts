import { isWellFormed } from '../protocol/unicode.js';

export type RoomIdCheck = { readonly ok: true; readonly roomId: string } | { readonly ok: false; readonly error: string };

/**
 * A room id given to an operator endpoint or command, checked by the same rule as `room_id` in
 * `register` (1 to `maxLength` characters of well-formed Unicode): an id with an unpaired
 * surrogate would become another one on its way through Redis.
 */
export function checkRoomId(value: unknown, maxLength: number): RoomIdCheck {
  if (typeof value !== 'string' || value.length === 0 || value.length > maxLength) {
    return { ok: false, error: `room_id must be a string of 1 to ${maxLength} characters` };
  }
  return isWellFormed(value) ? { ok: true, roomId: value } : { ok: false, error: 'room_id must be well-formed Unicode (no unpaired surrogate)' };
}

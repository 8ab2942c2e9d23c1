import type { ControlMessage, RefusalReason, RelayOrigin } from '../state-backend.js';

/**
 * What travels on an instance's channel: a one-letter kind, length-prefixed header fields
 * (ids may hold any character; lengths in UTF-16 code units), then the frame exactly as the
 * target's socket gets it, so the receiver never re-parses a payload. A received frame stays the
 * bytes it arrived as (no UTF-8 decode here and encode again at the socket).
 */
export type Envelope =
  | { kind: 'deliver'; relay: RoutedRelay; frame: Buffer }
  /** A relay the target's instance could not deliver, back to the sender's instance. */
  | { kind: 'refused'; origin: RelayOrigin; targetPeerId: string; reason: RefusalReason }
  | { kind: 'presence'; roomId: string; aboutConnectionId: string; frame: Buffer }
  | { kind: 'control'; message: ControlMessage }
  /** Sent by a reaper to learn whether anyone still listens on an instance's channel; ignored. */
  | { kind: 'probe' };

/** What a delivering instance needs besides the frame: whom, and whom to answer if it cannot. */
export interface RoutedRelay {
  readonly peerId: string;
  readonly roomId: string;
  readonly origin: RelayOrigin;
  /** How many times the relay was routed again after a miss (at most once). */
  readonly reroutes: 0 | 1;
}

const field = (value: string) => `${value.length}:${value}`;

export function deliverEnvelope(relay: RoutedRelay, frame: string): string {
  const { origin } = relay;
  return `d${relay.reroutes}${field(relay.peerId)}${field(relay.roomId)}${field(origin.connectionId)}${field(origin.requestType)}${frame}`;
}

export function refusedEnvelope(origin: RelayOrigin, targetPeerId: string, reason: RefusalReason): string {
  return `r${field(origin.connectionId)}${field(origin.requestType)}${field(targetPeerId)}${reason}`;
}

const REFUSAL_REASONS: readonly string[] = ['not_found', 'not_in_room', 'unavailable'] satisfies RefusalReason[];

export function presenceEnvelope(roomId: string, aboutConnectionId: string, frame: string): string {
  return `p${field(roomId)}${field(aboutConnectionId)}${frame}`;
}

export function controlEnvelope(message: ControlMessage): string {
  return `c${JSON.stringify(message)}`;
}

export const PROBE_ENVELOPE = 'n';

const BATCH = 0x62; // 'b'
const COLON = 0x3a;

/** Several envelopes as one channel message (what splitBusMessage reads; route.lua writes the same). */
export function batchMessage(envelopes: readonly string[]): string {
  if (envelopes.length === 1) return envelopes[0]!;
  const parts = ['b'];
  for (const e of envelopes) parts.push(`${Buffer.byteLength(e)}:`, e);
  return parts.join('');
}

/**
 * Splits a channel message into its envelopes: most carry one; a batch (route.lua) carries
 * several as 'b' then "<byte length>:<envelope>" each. Null for a malformed batch. The envelopes
 * are views of the message, not copies.
 */
export function splitBusMessage(message: Buffer): Buffer[] | null {
  if (message[0] !== BATCH) return [message];
  const out: Buffer[] = [];
  let at = 1;
  while (at < message.length) {
    const prefix = readLength(message, at);
    if (prefix === null || prefix[1] + prefix[0] > message.length) return null;
    const [length, start] = prefix;
    out.push(message.subarray(start, start + length));
    at = start + length;
  }
  return out;
}

/** Reads "<decimal length>:" at `at`: the length and where what it measures starts, or null. */
function readLength(bytes: Buffer, at: number): [number, number] | null {
  let length = 0;
  let digits = 0;
  while (at < bytes.length && bytes[at] !== COLON) {
    const d = bytes[at]! - 0x30;
    if (d < 0 || d > 9 || ++digits > 10) return null;
    length = length * 10 + d;
    at++;
  }
  return digits === 0 || at === bytes.length ? null : [length, at + 1];
}

/**
 * Reads one length-prefixed header field at `at`: the field and where the rest starts. The length
 * counts UTF-16 code units (the writer's string length), so the UTF-8 bytes are walked to find the
 * field's end: for ASCII ids, one byte a unit.
 */
function readField(raw: Buffer, at: number): [string, number] | null {
  const prefix = readLength(raw, at);
  if (prefix === null) return null;
  const [length, start] = prefix;
  let end = start;
  let units = 0;
  while (units < length) {
    const b = raw[end];
    if (b === undefined) return null;
    const size = b < 0x80 ? 1 : b >= 0xf0 ? 4 : b >= 0xe0 ? 3 : b >= 0xc0 ? 2 : 0;
    if (size === 0) return null;
    units += size === 4 ? 2 : 1;
    end += size;
  }
  if (units !== length || end > raw.length) return null;
  return [raw.toString('utf8', start, end), end];
}

/** Decodes one envelope; a delivery's or a presence event's frame stays the bytes it arrived as. */
export function decodeEnvelope(raw: Buffer): Envelope | null {
  switch (raw[0]) {
    case 0x64: {
      // 'd'
      const reroutes = raw[1] === 0x31 ? 1 : raw[1] === 0x30 ? 0 : null;
      const peer = reroutes !== null && readField(raw, 2);
      const room = peer && readField(raw, peer[1]);
      const conn = room && readField(raw, room[1]);
      const type = conn && readField(raw, conn[1]);
      if (!type) return null;
      const origin = { connectionId: conn[0], requestType: type[0] };
      return { kind: 'deliver', relay: { peerId: peer[0], roomId: room[0], origin, reroutes: reroutes! }, frame: raw.subarray(type[1]) };
    }
    case 0x72: {
      // 'r'
      const conn = readField(raw, 1);
      const type = conn && readField(raw, conn[1]);
      const target = type && readField(raw, type[1]);
      const reason = target && raw.toString('utf8', target[1]);
      if (!reason || !REFUSAL_REASONS.includes(reason)) return null;
      const origin = { connectionId: conn[0], requestType: type[0] };
      return { kind: 'refused', origin, targetPeerId: target[0], reason: reason as RefusalReason };
    }
    case 0x70: {
      // 'p'
      const room = readField(raw, 1);
      const about = room && readField(raw, room[1]);
      return room && about && { kind: 'presence', roomId: room[0], aboutConnectionId: about[0], frame: raw.subarray(about[1]) };
    }
    case 0x6e: // 'n'
      return { kind: 'probe' };
    case 0x63: // 'c'
      try {
        return { kind: 'control', message: JSON.parse(raw.toString('utf8', 1)) as ControlMessage };
      } catch {
        return null;
      }
    default:
      return null;
  }
}

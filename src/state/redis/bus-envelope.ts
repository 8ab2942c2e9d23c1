import type { ControlMessage, OutboundFrame, RefusalReason, RelayOrigin } from '../state-backend.js';

/**
 * What travels on an instance's channel: a one-letter kind, length-prefixed header fields
 * (ids may hold any character; lengths in UTF-16 code units), then the frame exactly as the
 * target's socket gets it, so the receiver never re-parses a payload. A received frame stays the
 * bytes it arrived as (no UTF-8 decode here and encode again at the socket).
 */
export type Envelope =
  | { kind: 'deliver'; relay: RoutedRelay; frame: OutboundFrame }
  /** A relay the target's instance could not deliver, back to the sender's instance. */
  | { kind: 'refused'; origin: RelayOrigin; targetPeerId: string; reason: RefusalReason }
  | { kind: 'presence'; roomId: string; aboutConnectionId: string; frame: OutboundFrame }
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
    const span = lengthPrefixed(message, at);
    if (span === null) return null;
    out.push(message.subarray(span[0], span[1]));
    at = span[1];
  }
  return out;
}

/** Reads "<decimal length>:" at `at`: where the data after it starts and ends, or null (malformed, or past the end). */
function lengthPrefixed(bytes: Buffer, at: number): [number, number] | null {
  let length = 0;
  let digits = 0;
  while (at < bytes.length && bytes[at] !== COLON) {
    const d = bytes[at]! - 0x30;
    if (d < 0 || d > 9 || ++digits > 10) return null;
    length = length * 10 + d;
    at++;
  }
  const end = at + 1 + length;
  return digits === 0 || end > bytes.length ? null : [at + 1, end];
}

/** Reads one length-prefixed field at `at`; returns it and where the rest starts. */
function readField(raw: string, at: number): [string, number] | null {
  const colon = raw.indexOf(':', at);
  if (colon < 0) return null;
  const length = Number(raw.slice(at, colon));
  if (!Number.isInteger(length) || length < 0 || colon + 1 + length > raw.length) return null;
  return [raw.slice(colon + 1, colon + 1 + length), colon + 1 + length];
}

/**
 * Decodes one envelope. A delivery or presence envelope whose header fields are ASCII (server ids,
 * request types and, almost always, peer and room ids) is read from the bytes, and its frame stays
 * bytes; any other is decoded as text first.
 */
export function decodeEnvelope(raw: Buffer | string): Envelope | null {
  if (typeof raw !== 'string') {
    const kind = raw[0];
    if (kind === DELIVER || kind === PRESENCE) {
      const fast = kind === DELIVER ? deliverFromBytes(raw) : presenceFromBytes(raw);
      if (fast !== NOT_ASCII) return fast;
    }
    raw = raw.toString('utf8');
  }
  return decodeText(raw);
}

const DELIVER = 0x64; // 'd'
const PRESENCE = 0x70; // 'p'
const NOT_ASCII = Symbol('not ascii');
type ByteField = [string, number] | null | typeof NOT_ASCII;

/** Like readField, on bytes: where a field is ASCII, its length in code units is its length in bytes. */
function readByteField(raw: Buffer, at: number): ByteField {
  const span = lengthPrefixed(raw, at);
  if (span === null) return null;
  const [start, end] = span;
  for (let i = start; i < end; i++) if (raw[i]! >= 0x80) return NOT_ASCII;
  return [raw.toString('latin1', start, end), end];
}

function deliverFromBytes(raw: Buffer): Envelope | null | typeof NOT_ASCII {
  const reroutes = raw[1] === 0x31 ? 1 : raw[1] === 0x30 ? 0 : null;
  if (reroutes === null) return null;
  const peer = readByteField(raw, 2);
  if (peer === null || peer === NOT_ASCII) return peer;
  const room = readByteField(raw, peer[1]);
  if (room === null || room === NOT_ASCII) return room;
  const conn = readByteField(raw, room[1]);
  if (conn === null || conn === NOT_ASCII) return conn;
  const type = readByteField(raw, conn[1]);
  if (type === null || type === NOT_ASCII) return type;
  const origin = { connectionId: conn[0], requestType: type[0] };
  return { kind: 'deliver', relay: { peerId: peer[0], roomId: room[0], origin, reroutes }, frame: raw.subarray(type[1]) };
}

function presenceFromBytes(raw: Buffer): Envelope | null | typeof NOT_ASCII {
  const room = readByteField(raw, 1);
  if (room === null || room === NOT_ASCII) return room;
  const about = readByteField(raw, room[1]);
  if (about === null || about === NOT_ASCII) return about;
  return { kind: 'presence', roomId: room[0], aboutConnectionId: about[0], frame: raw.subarray(about[1]) };
}

function decodeText(raw: string): Envelope | null {
  switch (raw[0]) {
    case 'd': {
      const reroutes = raw[1] === '1' ? 1 : raw[1] === '0' ? 0 : null;
      const peer = reroutes !== null && readField(raw, 2);
      const room = peer && readField(raw, peer[1]);
      const conn = room && readField(raw, room[1]);
      const type = conn && readField(raw, conn[1]);
      if (!type) return null;
      const origin = { connectionId: conn[0], requestType: type[0] };
      return { kind: 'deliver', relay: { peerId: peer[0], roomId: room[0], origin, reroutes: reroutes! }, frame: raw.slice(type[1]) };
    }
    case 'r': {
      const conn = readField(raw, 1);
      const type = conn && readField(raw, conn[1]);
      const target = type && readField(raw, type[1]);
      const reason = target && raw.slice(target[1]);
      if (!reason || !REFUSAL_REASONS.includes(reason)) return null;
      const origin = { connectionId: conn[0], requestType: type[0] };
      return { kind: 'refused', origin, targetPeerId: target[0], reason: reason as RefusalReason };
    }
    case 'p': {
      const room = readField(raw, 1);
      const about = room && readField(raw, room[1]);
      return room && about && { kind: 'presence', roomId: room[0], aboutConnectionId: about[0], frame: raw.slice(about[1]) };
    }
    case 'n':
      return { kind: 'probe' };
    case 'c':
      try {
        return { kind: 'control', message: JSON.parse(raw.slice(1)) as ControlMessage };
      } catch {
        return null;
      }
    default:
      return null;
  }
}

import { describe, expect, it } from 'vitest';
import { connect, freshRoom, registeredPeer, startServer, type ServerMessage, type SignalClient } from '../helpers/harness.js';
import type { SignalingServer } from '../../src/server/signaling-server.js';
import { CLIENT_MESSAGE_TYPES } from '../../src/protocol/schemas.js';
import { ERROR_CODES as ALL_ERROR_CODES } from '../../src/protocol/error-codes.js';

/**
 * Seeded fuzz: a registered peer sends a few hundred odd frames (random bytes, random text,
 * mutated and truncated valid messages of every type, deep nesting, strings near the limits,
 * wrong types, binary frames). After every frame it sends a sync marker (an unknown type, which
 * must be answered with UNKNOWN_MESSAGE_TYPE), so each frame's replies can be told apart and
 * checked: at most the protocol's replies, well-formed errors with protocol codes, never a close
 * except 1009 for an oversized frame. Afterwards the server must still serve a fresh pair.
 *
 * Reproduce a failure with FUZZ_SEED=<seed from the test name>.
 */

const MAX_PAYLOAD = 64 * 1024;
const FRAMES = 400;
const SYNC_TYPE = 'zz-fuzz-sync';
const WAIT = 5000;

// The fuzzer draws from the server's own lists: what it checks is behaviour, not the lists.
const CLIENT_TYPES = CLIENT_MESSAGE_TYPES;
const ERROR_CODES = new Set<string>(ALL_ERROR_CODES);
/** Replies to a request (at most one per frame; admin_conflict may precede registered). */
const REPLY_TYPES = new Set(['error', 'pong', 'peer_list', 'metadata_updated', 'registered', 'left']);
/** What a relay delivers (the fuzzer may relay to itself). */
const RELAY_TYPES = new Set(['peer_message', 'offer', 'answer', 'candidate', 'mesh_offer', 'mesh_answer', 'ice_candidate']);
const PRESENCE_TYPES = new Set(['peer_joined', 'peer_updated', 'peer_left']);

// ---------------------------------------------------------------------------------------------
// PRNG

function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

class Rng {
  constructor(readonly next: () => number) {}
  int(n: number): number {
    return Math.floor(this.next() * n);
  }
  chance(p: number): boolean {
    return this.next() < p;
  }
  pick<T>(items: readonly T[]): T {
    return items[this.int(items.length)]!;
  }
  char(): string {
    const pools = [
      'abcdefghijklmnopqrstuvwxyz0123456789',
      '{}[]":,\\/ \t\n',
      '\u0000\u0001\u001f\u007f',
      'é€✓漢',
      '\u{1F600}\u{1F4A9}',
      '\ud800\udfff', // lone surrogates: encoded as U+FFFD, still valid UTF-8
      '$.-_',
    ];
    return this.pick([...this.pick(pools)]);
  }
  string(max: number): string {
    const n = this.int(max + 1);
    let s = '';
    for (let i = 0; i < n; i++) s += this.char();
    return s;
  }
  bytes(max: number): Buffer {
    const b = Buffer.alloc(this.int(max + 1));
    for (let i = 0; i < b.length; i++) b[i] = this.int(256);
    return b;
  }
  value(depth = 3): unknown {
    const k = this.int(depth > 0 ? 9 : 7);
    switch (k) {
      case 0:
        return null;
      case 1:
        return this.chance(0.5);
      case 2:
        return this.pick([0, -1, 1.5, 1e308, -0, 2 ** 53 + 1, this.int(1000)]);
      case 3:
        return this.string(20);
      case 4:
        return '';
      case 5:
        return [];
      case 6:
        return {};
      case 7:
        return Array.from({ length: this.int(4) }, () => this.value(depth - 1));
      default: {
        const o: Record<string, unknown> = {};
        for (let i = this.int(4); i > 0; i--) o[this.pick(['a', 'tags', 'properties', '$gt', '$in', 'type', this.string(6)])] = this.value(depth - 1);
        return o;
      }
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Frame generation

interface Ctx {
  room: string;
  otherRoom: string;
  self: string;
  observer: string;
}

const DEEP = '"__DEEP__"';
const HUGE = '"__HUGE__"';

function deepText(rng: Rng, depth: number): string {
  if (rng.chance(0.5)) return '['.repeat(depth) + ']'.repeat(depth);
  return '{"a":'.repeat(depth) + '1' + '}'.repeat(depth);
}

function template(rng: Rng, ctx: Ctx, type: (typeof CLIENT_TYPES)[number]): Record<string, unknown> {
  const target = () => rng.pick([ctx.observer, ctx.self, 'nobody-here', ctx.observer]);
  switch (type) {
    case 'register':
      return {
        type,
        room_id: rng.pick([ctx.room, ctx.room, ctx.otherRoom]),
        peer_id: rng.pick([ctx.self, `${ctx.self}-x${rng.int(3)}`, ctx.observer, undefined]),
        role: rng.pick(['worker', 'client', 'peer', undefined]),
        metadata: { tags: ['gpu', rng.string(5)], properties: { gpu_mem: rng.int(80), zone: 'a' }, extra: rng.value(2) },
        presence: rng.chance(0.5),
        is_admin: rng.chance(0.3),
        ...(rng.chance(0.2) ? { token: 't', jwt: 'x.y.z', session_token: 'nope' } : {}),
      };
    case 'discover_peers':
      return {
        type,
        filters: {
          role: rng.pick(['worker', null, undefined]),
          tags: rng.pick([['gpu'], [], undefined]),
          properties: rng.pick([{ gpu_mem: { $gte: 10, $lt: 99 } }, { zone: 'a' }, { k: { $exists: true } }, { k: { $nin: [1, 'x'] } }, undefined]),
        },
      };
    case 'update_metadata':
      return { type, metadata: { tags: ['t'], properties: { k: rng.value(1), gone: null }, note: rng.string(8) } };
    case 'peer_message':
      return { type, to_peer_id: target(), payload: rng.value(3) };
    case 'offer':
    case 'answer':
      return { type, target: target(), sdp: `v=0 ${rng.string(10)}`, role: 'client' };
    case 'candidate':
      return { type, target: target(), candidate: { candidate: 'candidate:1 1 udp', sdpMid: '0' } };
    case 'mesh_connect':
      return { type, target_peer_id: target(), offer: { sdp: rng.string(10), type: 'offer' } };
    case 'mesh_answer':
      return { type, target_peer_id: target(), answer: { sdp: rng.string(10), type: 'answer' } };
    case 'ice_candidate':
      return { type, target_peer_id: target(), candidate: { candidate: rng.string(10) } };
    case 'ping':
      return { type };
    case 'leave':
      return { type };
  }
}

/** Fills the HUGE placeholder so the frame is `targetBytes` long (ASCII or 2-byte characters). */
function fillHuge(text: string, targetBytes: number, rng: Rng): string {
  const overhead = Buffer.byteLength(text) - Buffer.byteLength(HUGE) + 2;
  let room = Math.max(0, targetBytes - overhead);
  let fill = '';
  if (rng.chance(0.5)) {
    fill = 'é'.repeat(Math.floor(room / 2));
    room -= fill.length * 2;
  }
  fill += 'x'.repeat(room);
  return text.replace(HUGE, `"${fill}"`);
}

interface Frame {
  data: string | Buffer;
  binary: boolean;
  label: string;
}

function generate(rng: Rng, ctx: Ctx): Frame {
  const kind = rng.int(20);
  if (kind === 0) return { data: rng.bytes(64), binary: true, label: 'random bytes (binary)' };
  if (kind === 1) return { data: rng.string(80), binary: false, label: 'random text' };
  if (kind === 2) return { data: JSON.stringify(rng.value(3)), binary: false, label: 'random JSON value' };
  if (kind === 3) {
    // Deep nesting at top level (not an object) or inside an otherwise valid ping.
    const depth = rng.pick([100, 1000, 5000, 20000]);
    return rng.chance(0.5)
      ? { data: deepText(rng, depth), binary: false, label: `deep top-level value (${depth})` }
      : { data: `{"type":"ping","extra":${deepText(rng, depth)}}`, binary: false, label: `ping with deep extra (${depth})` };
  }
  if (kind === 4) {
    const t = rng.pick(CLIENT_TYPES);
    return { data: Buffer.from(JSON.stringify(template(rng, ctx, t))), binary: true, label: `valid ${t} as binary` };
  }

  const type = rng.pick(CLIENT_TYPES);
  const msg: Record<string, unknown> = template(rng, ctx, type);
  const keys = () => Object.keys(msg);
  const op = rng.int(14);
  let label = `${type}`;
  let textOp: ((s: string) => string) | null = null;
  switch (op) {
    case 0:
      label += ' valid';
      break;
    case 1: {
      const k = rng.pick(keys());
      delete msg[k];
      label += ` without ${k}`;
      break;
    }
    case 2: {
      const k = rng.pick(keys());
      msg[k] = rng.value(2);
      label += ` ${k}=random`;
      break;
    }
    case 3: {
      const k = rng.pick(keys().filter((x) => x !== 'type').concat(['type']));
      msg[k] = null;
      label += ` ${k}=null`;
      break;
    }
    case 4:
      msg.type = rng.pick(['', ' ', 'Ping', 'peer-message', `${type}_`, rng.string(10), 5, null, true, [type], { type }]);
      label += ' with bad type';
      break;
    case 5: {
      const k = rng.pick(keys().filter((x) => x !== 'type').concat(['payload', 'metadata', 'filters']));
      msg[k] = '__DEEP__';
      const depth = rng.pick([50, 500, 3000, 6000, 12000]);
      textOp = (s) => s.replace(DEEP, deepText(rng, depth));
      label += ` ${k}=deep(${depth})`;
      break;
    }
    case 6: {
      // A string that puts the frame just under, at, or just over the frame limit.
      const k = rng.pick(keys().filter((x) => x !== 'type').concat(['payload', 'sdp', 'padding']));
      msg[k] = '__HUGE__';
      const size = MAX_PAYLOAD + rng.pick([-64, -2, -1, 0, 1, 2, 64]);
      textOp = (s) => fillHuge(s, size, rng);
      label += ` ${k}=huge (frame ${size} bytes)`;
      break;
    }
    case 7: {
      // Strings at and just over the id / role limits, tags and metadata around theirs.
      const which = rng.int(5);
      if (which === 0) msg.peer_id = 'p'.repeat(rng.pick([127, 128, 129]));
      if (which === 1) msg.room_id = 'r'.repeat(rng.pick([128, 129, 1000]));
      if (which === 2) msg.role = 'w'.repeat(rng.pick([64, 65]));
      if (which === 3) msg.metadata = { tags: Array.from({ length: rng.pick([64, 65]) }, (_, i) => `t${i}`) };
      if (which === 4) msg.metadata = { blob: 'm'.repeat(16 * 1024 - rng.pick([20, 11, 10, 9, 0])) };
      for (const k of ['to_peer_id', 'target', 'target_peer_id']) if (k in msg) msg[k] = 'q'.repeat(rng.pick([128, 129]));
      label += ` near limits (${which})`;
      break;
    }
    case 8:
      msg[rng.pick(['from_peer_id', 'sender', 'peer_id'])] = rng.pick([ctx.observer, ctx.self, 5, null, ['x']]);
      label += ' with identity field';
      break;
    case 9:
      textOp = (s) => s.slice(0, rng.int(s.length));
      label += ' truncated';
      break;
    case 10:
      textOp = (s) => {
        const chars = [...s];
        for (let i = rng.int(4) + 1; i > 0; i--) chars[rng.int(chars.length)] = rng.char();
        return chars.join('');
      };
      label += ' mutated chars';
      break;
    case 11:
      textOp = (s) => (rng.chance(0.5) ? `[${s}]` : `{"message":${s}}`);
      label += ' wrapped';
      break;
    case 12:
      for (let i = rng.int(5) + 1; i > 0; i--) msg[rng.string(8)] = rng.value(2);
      label += ' extra fields';
      break;
    default:
      textOp = (s) => s + rng.pick([' ', '\n', 'x', '}', ',{}']);
      label += ' trailing bytes';
  }
  let text = JSON.stringify(msg);
  if (textOp) text = textOp(text);
  return { data: text, binary: false, label };
}

// ---------------------------------------------------------------------------------------------
// Oracle

/** What the reply to a frame must be, when it can be told cheaply; null when anything allowed. */
function expectation(frame: Frame): { code?: string; requestType: string | null; pong?: boolean } {
  if (frame.binary) return { code: 'INVALID_MESSAGE', requestType: null };
  let v: unknown;
  try {
    v = JSON.parse(frame.data as string);
  } catch {
    return { code: 'INVALID_JSON', requestType: null };
  }
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return { code: 'INVALID_JSON', requestType: null };
  const type = (v as { type?: unknown }).type;
  if (typeof type !== 'string') return { code: 'INVALID_MESSAGE', requestType: null };
  if (!(CLIENT_TYPES as readonly string[]).includes(type)) return { code: 'UNKNOWN_MESSAGE_TYPE', requestType: type };
  if (type === 'ping') return { requestType: type, pong: true };
  return { requestType: type };
}

async function runFuzz(seed: number): Promise<void> {
  const rng = new Rng(mulberry32(seed));
  const server: SignalingServer = await startServer({
    limits: { maxPayloadBytes: MAX_PAYLOAD, ratePerSecond: 1_000_000, rateBurst: 1_000_000 },
    // The byte budget raised too: on a busy machine the server reads a burst of queued frames at
    // one instant, and the default 2 MiB burst would refuse some (the limiters have tests of their own).
    byteRate: { perSecond: 1 << 30, burst: 1 << 30 },
    unregisteredMaxFrameBytes: 1 << 30,
  });
  const room = freshRoom('fuzz');
  const otherRoom = freshRoom('fuzz-other');
  const observerId = `observer-${seed}`;
  const { client: observer } = await registeredPeer(server, { room_id: room, peer_id: observerId, presence: true, role: 'worker' });

  const violations: string[] = [];
  const fuzzerIds = new Set<string>();
  let reconnects = 0;
  let selfId = `fz-${seed}-0`;
  let fuzzer: SignalClient = (await registeredPeer(server, { room_id: room, peer_id: selfId, presence: true })).client;
  fuzzerIds.add(selfId);
  let registered = true;

  const reRegister = async () => {
    const reply = await fuzzer.request({ type: 'register', room_id: room, peer_id: selfId, presence: true }, 'registered', WAIT);
    if (reply.type !== 'registered') violations.push(`re-register failed: ${JSON.stringify(reply)}`);
    registered = true;
  };

  for (let i = 0; i < FRAMES; i++) {
    if (!registered && i % 10 === 0) await reRegister();
    const ctx: Ctx = { room, otherRoom, self: selfId, observer: observerId };
    const frame = generate(rng, ctx);
    const size = typeof frame.data === 'string' ? Buffer.byteLength(frame.data) : frame.data.length;
    const oversized = size > MAX_PAYLOAD;
    const where = `frame #${i} (${frame.label}, ${size} bytes)`;
    fuzzer.sendRaw(frame.data, frame.binary);
    fuzzer.send({ type: SYNC_TYPE, n: i });

    // Collect everything up to the sync marker's reply, or the close.
    const got: ServerMessage[] = [];
    let closedWith: number | null = null;
    for (;;) {
      let m: ServerMessage;
      try {
        m = await fuzzer.next(() => true, WAIT);
      } catch (err) {
        const close = fuzzer.closeCode;
        if (close) closedWith = close.code;
        else violations.push(`${where}: no answer to the sync marker (${(err as Error).message})`);
        break;
      }
      if (m.type === 'error' && m.request_type === SYNC_TYPE) {
        if (m.code !== 'UNKNOWN_MESSAGE_TYPE') violations.push(`${where}: sync marker answered ${m.code}`);
        break;
      }
      got.push(m);
    }

    if (oversized) {
      if (closedWith !== 1009) violations.push(`${where}: oversized frame not closed with 1009 (close ${closedWith})`);
    } else if (closedWith !== null) {
      violations.push(`${where}: connection closed with ${closedWith}`);
    }
    if (closedWith !== null) {
      if (!oversized && closedWith !== 1009) break; // Nothing sensible to continue with.
      reconnects++;
      selfId = `fz-${seed}-${reconnects}`;
      fuzzer = (await registeredPeer(server, { room_id: room, peer_id: selfId, presence: true })).client;
      fuzzerIds.add(selfId);
      registered = true;
      continue;
    }

    // Check the replies to this frame.
    const exp = expectation(frame);
    const replies = got.filter((m) => REPLY_TYPES.has(m.type));
    const conflicts = got.filter((m) => m.type === 'admin_conflict');
    if (replies.length > 1) violations.push(`${where}: ${replies.length} replies: ${replies.map((r) => r.type).join(', ')}`);
    if (conflicts.length > 0 && !(conflicts.length === 1 && replies[0]?.type === 'registered')) {
      violations.push(`${where}: admin_conflict without registered`);
    }
    for (const m of got) {
      if (REPLY_TYPES.has(m.type) || m.type === 'admin_conflict') continue;
      if (RELAY_TYPES.has(m.type)) {
        const stamped = m.from_peer_id ?? m.sender;
        if (stamped !== selfId) violations.push(`${where}: relay to self stamped ${String(stamped)}, expected ${selfId}`);
        continue;
      }
      if (PRESENCE_TYPES.has(m.type)) {
        if (m.peer_id === selfId) violations.push(`${where}: presence event about oneself: ${JSON.stringify(m)}`);
        continue;
      }
      violations.push(`${where}: unexpected message ${JSON.stringify(m).slice(0, 200)}`);
    }
    const reply = replies[0];
    if (reply?.type === 'error') {
      const code = String(reply.code);
      if (!ERROR_CODES.has(code)) violations.push(`${where}: unknown error code ${code}`);
      if (code === 'SERVICE_UNAVAILABLE') violations.push(`${where}: SERVICE_UNAVAILABLE with an in-memory state backend`);
      if (code === 'RATE_LIMITED') violations.push(`${where}: RATE_LIMITED with the limiter raised`);
      if (typeof reply.message !== 'string' || reply.reason !== reply.message) violations.push(`${where}: malformed error ${JSON.stringify(reply)}`);
      if (exp.requestType === null) {
        if ('request_type' in reply) violations.push(`${where}: request_type ${String(reply.request_type)} where the type was not a string`);
      } else if (reply.request_type !== exp.requestType) {
        violations.push(`${where}: request_type ${String(reply.request_type)}, expected ${exp.requestType}`);
      }
      if (exp.code !== undefined && code !== exp.code) violations.push(`${where}: ${code}, expected ${exp.code}`);
      if (exp.pong) violations.push(`${where}: ping answered with ${code}`);
    } else {
      if (exp.code !== undefined) violations.push(`${where}: expected ${exp.code}, got ${reply?.type ?? 'nothing'}`);
      if (exp.pong && reply?.type !== 'pong') violations.push(`${where}: ping not answered with pong`);
    }
    if (reply?.type === 'registered') {
      selfId = String(reply.peer_id);
      fuzzerIds.add(selfId);
      registered = true;
    }
    if (reply?.type === 'left') registered = false;
  }

  // The observer was never disturbed: still open, only presence and relays stamped with a
  // fuzzer id, never an error (outside compat mode no unsolicited error exists).
  expect(observer.isOpen).toBe(true);
  expect(await observer.request({ type: 'ping' }, 'pong', WAIT)).toEqual({ type: 'pong' });
  for (const m of observer.drain()) {
    if (PRESENCE_TYPES.has(m.type)) {
      if (m.peer_id === observerId) violations.push(`observer: presence event about itself: ${JSON.stringify(m)}`);
    } else if (RELAY_TYPES.has(m.type)) {
      const stamped = String(m.from_peer_id ?? m.sender);
      if (!fuzzerIds.has(stamped)) violations.push(`observer: relay stamped ${stamped}, not a fuzzer id`);
    } else {
      violations.push(`observer: unexpected ${JSON.stringify(m).slice(0, 200)}`);
    }
  }

  // The server still serves: a fresh pair registers, discovers and relays.
  const fresh = freshRoom('after-fuzz');
  const { client: c } = await registeredPeer(server, { room_id: fresh, peer_id: `c-${seed}`, metadata: { tags: ['x'] } });
  const { client: d, registered: dReg } = await registeredPeer(server, { room_id: fresh, peer_id: `d-${seed}` });
  expect(dReg.peer_list).toEqual([`c-${seed}`]);
  const list = await c.request({ type: 'discover_peers' }, 'peer_list', WAIT);
  expect((list.peers as Array<{ peer_id: string }>).map((p) => p.peer_id)).toEqual([`d-${seed}`]);
  c.send({ type: 'peer_message', to_peer_id: `d-${seed}`, payload: { after: 'fuzz' } });
  expect(await d.next('peer_message', WAIT)).toEqual({ type: 'peer_message', from_peer_id: `c-${seed}`, to_peer_id: `d-${seed}`, payload: { after: 'fuzz' } });
  d.send({ type: 'offer', target: `c-${seed}`, sdp: 'v=0' });
  expect(await c.next('offer', WAIT)).toEqual({ type: 'offer', target: `c-${seed}`, sdp: 'v=0', sender: `d-${seed}` });
  // A brand-new connection is accepted too.
  const e = await connect(server);
  expect(await e.request({ type: 'ping' }, 'pong', WAIT)).toEqual({ type: 'pong' });

  expect(violations, `${violations.length} violations (seed ${seed}):\n${violations.slice(0, 40).join('\n')}`).toEqual([]);
}

const envSeed = process.env.FUZZ_SEED ? Number(process.env.FUZZ_SEED) : null;
const SEEDS = envSeed !== null && Number.isFinite(envSeed) ? [envSeed] : [0xc0ffee, 20250607];

describe('fuzz', () => {
  for (const seed of SEEDS) {
    it(`survives ${FRAMES} odd frames from a registered peer (seed ${seed})`, { timeout: 60_000 }, async () => {
      await runFuzz(seed);
    });
  }
});

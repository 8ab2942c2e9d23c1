import { describe, expect, it } from 'vitest';
import { startServer } from '../helpers/harness.js';
import { compileFilters, type FilterSubject } from '../../src/protocol/filters.js';
import { DEFAULT_LIMITS } from '../../src/protocol/limits.js';
import type { DiscoverFilters } from '../../src/protocol/messages.js';
import type { JsonValue } from '../../src/protocol/json-value.js';
import { expectValidServerMessage } from '../helpers/server-schema.js';
import { discoverIds, freshRoom, peer, type ServerMessage } from './support.js';

/**
 * Issue 12, finding 1: one `discover_peers` must not stall the instance. The attack: a peer
 * stores an object of 1,700 keys; another sends one 1 MiB discover whose `$in` holds 340,000
 * `{}`, each of which used to cost a deep equality over those 1,700 keys (seconds of blocked
 * event loop for every other connection).
 */

/** An object of `n` keys whose JSON stays under the 16 KiB metadata limit. */
function wideObject(n: number): Record<string, number> {
  const out: Record<string, number> = {};
  for (let i = 0; i < n; i++) out[i.toString(36)] = 0;
  return out;
}

const WIDE = wideObject(1700);

/** The 1 MiB attack frame, as text (340,000 empty objects in one `$in`). */
function attackFrame(): string {
  const elements = new Array<string>(340_000).fill('{}').join(',');
  return `{"type":"discover_peers","filters":{"properties":{"x":{"$in":[${elements}]}}}}`;
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

describe('one discover cannot stall the server', () => {
  it('a bystander in another room keeps getting prompt pongs while the attack discover is handled', async () => {
    const server = await startServer();
    const room = freshRoom();
    await peer(server, { room_id: room, peer_id: 'a', metadata: { properties: { x: WIDE } } });
    const b = await peer(server, { room_id: room, peer_id: 'b' });
    const bystander = await peer(server, { room_id: freshRoom('other'), peer_id: 'bystander' });

    const frame = attackFrame();
    expect(frame.length).toBeLessThan(DEFAULT_LIMITS.maxPayloadBytes);
    b.client.sendRaw(frame);
    const answered = b.client.next((m) => m.type === 'peer_list' || m.type === 'error', 60_000);
    let answer: ServerMessage | null = null;
    void answered.then((m) => (answer = m), () => undefined);

    // Ping round trips until B has its answer (and a few more): the slowest one is how long a
    // bystander waited on the attack. The server runs in this process, so a blocked event loop
    // shows up here as a late pong.
    const trips: number[] = [];
    while (answer === null || trips.length < 5) {
      const sent = performance.now();
      bystander.client.send({ type: 'ping' });
      await bystander.client.next('pong', 60_000);
      trips.push(performance.now() - sent);
      await sleep(5);
    }
    const slowest = Math.max(...trips);
    expect(slowest, `slowest ping round trip ${Math.round(slowest)} ms`).toBeLessThan(1000);

    const reply = (await answered) as ServerMessage;
    expectValidServerMessage(reply);
    if (reply.type === 'error') {
      expect(reply.code).toBe('INVALID_MESSAGE');
      expect(reply.message).toMatch(/\$in.*at most 256/);
    } else {
      expect(reply.peers).toEqual([]);
    }
  }, 90_000);

  it('a discover at the limits still answers correctly and promptly', async () => {
    const server = await startServer();
    const room = freshRoom();
    const reordered = Object.fromEntries(Object.entries({ k: 1, j: [1, { z: null, y: 'y' }] }).reverse());
    await peer(server, { room_id: room, peer_id: 'a', metadata: { properties: { x: WIDE } } });
    await peer(server, { room_id: room, peer_id: 'c', metadata: { properties: { x: { j: [1, { y: 'y', z: null }], k: 1 } } } });
    const b = await peer(server, { room_id: room, peer_id: 'b' });
    const operands = [...Array.from({ length: 255 }, (_, i) => ({ [`k${i}`]: i })), reordered];
    const started = performance.now();
    expect(await discoverIds(b.client, { properties: { x: { $in: operands } } })).toEqual(['c']);
    expect(await discoverIds(b.client, { properties: { x: { $nin: operands } } })).toEqual(['a']);
    expect(performance.now() - started).toBeLessThan(2000);
  });

  it('a filter over a limit is INVALID_MESSAGE naming the limit, and the connection goes on', async () => {
    const server = await startServer();
    const me = await peer(server, { room_id: freshRoom() });
    const cases: [unknown, RegExp][] = [
      [{ properties: { x: { $in: new Array(257).fill(1) } } }, /filters\.properties\.x\.\$in: .*at most 256/],
      [{ properties: { x: { $nin: new Array(257).fill('a') } } }, /filters\.properties\.x\.\$nin: .*at most 256/],
      [{ properties: Object.fromEntries(Array.from({ length: 65 }, (_, i) => [`k${i}`, i])) }, /filters\.properties: .*at most 64/],
      [{ properties: { x: 'y'.repeat(1100) } }, /filters\.properties\.x: .*1024/],
      [{ properties: { x: { $eq: nested(17) } } }, /filters\.properties\.x\.\$eq: .*16 levels/],
    ];
    for (const [filters, why] of cases) {
      const reply = await me.client.request({ type: 'discover_peers', filters }, 'peer_list');
      expect(reply.type, JSON.stringify(reply).slice(0, 300)).toBe('error');
      expect(reply.code).toBe('INVALID_MESSAGE');
      expect(reply.message).toMatch(why);
    }
    expect(await discoverIds(me.client)).toEqual([]);
  });
});

/** `[[[...]]]` nested `depth` levels deep. */
function nested(depth: number): JsonValue {
  let v: JsonValue = 0;
  for (let i = 0; i < depth; i++) v = [v];
  return v;
}

function compile(filters: DiscoverFilters) {
  const compiled = compileFilters(filters);
  if (!compiled.ok) throw new Error(compiled.error.message);
  return compiled.match;
}

function refusal(filters: DiscoverFilters): string {
  const compiled = compileFilters(filters);
  expect(compiled.ok, 'the filter should be refused').toBe(false);
  if (compiled.ok) return '';
  expect(compiled.error.code).toBe('INVALID_MESSAGE');
  return compiled.error.message;
}

const subject = (x: unknown, present = true): FilterSubject => ({
  role: 'peer',
  metadata: { properties: present ? { x: x as never } : {} },
});

describe('filter evaluation limits (unit)', () => {
  it('refuses $in / $nin lists longer than the limit, and accepts one at the limit', () => {
    const limit = DEFAULT_LIMITS.maxFilterListItems;
    expect(limit).toBe(256);
    expect(refusal({ properties: { x: { $in: new Array(limit + 1).fill(0) } } })).toMatch(/\$in.*at most 256/);
    expect(refusal({ properties: { x: { $nin: new Array(limit + 1).fill(0) } } })).toMatch(/\$nin.*at most 256/);
    expect(compileFilters({ properties: { x: { $in: new Array(limit).fill(0) } } }).ok).toBe(true);
  });

  it('refuses more property keys than the limit', () => {
    const limit = DEFAULT_LIMITS.maxFilterProperties;
    expect(limit).toBe(64);
    const keys = (n: number) => Object.fromEntries(Array.from({ length: n }, (_, i) => [`k${i}`, { $exists: true }]));
    expect(refusal({ properties: keys(limit + 1) })).toMatch(/properties.*at most 64/);
    expect(compileFilters({ properties: keys(limit) }).ok).toBe(true);
  });

  it('refuses operands whose JSON is too long or too deep, wherever they are', () => {
    const long = 'y'.repeat(DEFAULT_LIMITS.maxFilterOperandLength);
    expect(refusal({ properties: { x: long } })).toMatch(/properties\.x: .*1024/);
    expect(refusal({ properties: { x: { $in: [1, { k: long }] } } })).toMatch(/properties\.x\.\$in: .*1024/);
    expect(refusal({ properties: { x: { $gt: long } } })).toMatch(/properties\.x\.\$gt: .*1024/);
    expect(refusal({ properties: { x: { $ne: nested(DEFAULT_LIMITS.maxFilterOperandDepth + 1) } } })).toMatch(/\$ne: .*16 levels/);
    expect(compileFilters({ properties: { x: { $ne: nested(DEFAULT_LIMITS.maxFilterOperandDepth) } } }).ok).toBe(true);
    expect(compileFilters({ properties: { x: 'y'.repeat(DEFAULT_LIMITS.maxFilterOperandLength - 2) } }).ok).toBe(true);
  });

  // Few objects are compared one by one, many are looked up by canonical form: both must agree
  // with deep equality. The padding pushes a list from the first way to the second.
  const PADDING: JsonValue[] = Array.from({ length: 6 }, (_, i) => ({ pad: i }));
  for (const [way, pad] of [['compared', []], ['looked up', PADDING]] as const) {
    it(`keeps deep-equality semantics (${way})`, () => {
      const m = compile({ properties: { x: { $in: [1, 'a', null, false, { b: [1, { c: 2 }], a: {} }, [1, 2], {}, ...pad] } } });
      expect(m(subject(1))).toBe(true);
      expect(m(subject('1'))).toBe(false);
      expect(m(subject('a'))).toBe(true);
      expect(m(subject(null))).toBe(true);
      expect(m(subject(null, false))).toBe(false);
      expect(m(subject(false))).toBe(true);
      expect(m(subject(0))).toBe(false);
      expect(m(subject({ a: {}, b: [1, { c: 2 }] }))).toBe(true);
      expect(m(subject({ a: {}, b: [1, { c: 2 }], d: 1 }))).toBe(false);
      expect(m(subject({ a: [], b: [1, { c: 2 }] }))).toBe(false);
      expect(m(subject({ a: {}, b: [1, { c: '2' }] }))).toBe(false);
      expect(m(subject([1, 2]))).toBe(true);
      expect(m(subject([2, 1]))).toBe(false);
      expect(m(subject({}))).toBe(true);
      expect(m(subject([]))).toBe(false);
      expect(m(subject(WIDE))).toBe(false);
      const zero = compile({ properties: { x: { $eq: { n: 0 } } } });
      expect(zero(subject({ n: -0 }))).toBe(true);
      const notIn = compile({ properties: { x: { $nin: [{ a: 1 }, 's', ...pad] } } });
      expect(notIn(subject({ a: 1 }))).toBe(false);
      expect(notIn(subject({ a: 2 }))).toBe(true);
      expect(notIn(subject(null, false))).toBe(true);
      // Keys that look like JSON or prototypes are data like any other.
      const odd = compile({ properties: { x: { $in: [JSON.parse('{"__proto__":{"a":1},"\\"":[]}') as JsonValue, ...pad] } } });
      expect(odd(subject(JSON.parse('{"\\"":[],"__proto__":{"a":1}}')))).toBe(true);
      expect(odd(subject({ '"': [] }))).toBe(false);
      // A stored value deeper than any operand is simply not equal (and not walked to the bottom).
      expect(m(subject(nested(5000)))).toBe(false);
    });
  }

  it('costs a bounded amount per peer whatever the operands, even against wide stored values', () => {
    // The old matching did 256 deep comparisons over 1,700 keys per peer: about ten seconds for
    // this room of 1,000 peers.
    const operands = [...new Array(128).fill({}), ...Array.from({ length: 128 }, (_, i) => ({ [`k${i}`]: i }))];
    const m = compile({ properties: { x: { $in: operands }, y: { $nin: operands }, z: { $eq: {} }, w: { $ne: { a: 1 } } } });
    const room: FilterSubject[] = Array.from({ length: 1000 }, () => ({
      role: 'peer',
      metadata: { properties: { x: WIDE, y: WIDE, z: WIDE, w: WIDE } },
    }));
    const started = performance.now();
    const matched = room.filter(m).length;
    const took = performance.now() - started;
    expect(matched).toBe(0);
    expect(took, `${Math.round(took)} ms for 1,000 peers`).toBeLessThan(1000);
  });
});

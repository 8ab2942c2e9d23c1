import { describe, expect, it } from 'vitest';
import {
  connect,
  freshRoom,
  quiet,
  registeredPeer,
  startServer,
  type ServerMessage,
  type SignalClient,
} from '../helpers/harness.js';
import type { SignalingServer } from '../../src/server/signaling-server.js';
import type { ServerConfig } from '../../src/server/server-options.js';

/**
 * Bad input: every malformed frame gets exactly one well-formed `error` reply, the connection
 * stays open and usable, and nothing else changes (the sender keeps its registration and
 * metadata; another peer of the room, a presence subscriber, sees nothing).
 */

const WAIT = 3000;

const A_METADATA = { tags: ['gpu', 'worker'], properties: { gpu_mem: 24, zone: 'a' }, note: 'kept' };
const B_METADATA = { tags: ['client'], properties: {} };

interface Pair {
  server: SignalingServer;
  room: string;
  a: SignalClient;
  b: SignalClient;
  aId: string;
  bId: string;
}

async function pair(config: ServerConfig = {}): Promise<Pair> {
  const server = await startServer(config);
  const room = freshRoom('bad');
  const aId = `a-${room}`;
  const bId = `b-${room}`;
  const { client: a } = await registeredPeer(server, { room_id: room, peer_id: aId, role: 'worker', metadata: A_METADATA });
  const { client: b } = await registeredPeer(server, {
    room_id: room,
    peer_id: bId,
    role: 'client',
    metadata: B_METADATA,
    presence: true,
  });
  // Nothing is pending on either side before the bad input (B may have seen nothing yet: it
  // registered last, and presence carries no event about oneself).
  expect(a.drain()).toEqual([]);
  expect(b.drain()).toEqual([]);
  return { server, room, a, b, aId, bId };
}

function expectError(reply: ServerMessage, code: string, requestType: string | undefined): void {
  expect(reply.type).toBe('error');
  expect(reply.code).toBe(code);
  expect(typeof reply.message).toBe('string');
  expect((reply.message as string).length).toBeGreaterThan(0);
  expect(reply.reason).toBe(reply.message);
  if (requestType === undefined) expect(reply).not.toHaveProperty('request_type');
  else expect(reply.request_type).toBe(requestType);
}

/** The sender still works, still holds its registration as it was, and the other peer saw nothing. */
async function expectIntact(p: Pair): Promise<void> {
  const { a, b, aId, bId } = p;
  expect(a.isOpen).toBe(true);
  // The next thing A gets after the one error reply is this pong: a second reply to the bad
  // frame would arrive first (frames of one connection are handled in order).
  a.send({ type: 'ping' });
  expect(await a.next(() => true, WAIT)).toEqual({ type: 'pong' });

  const fromA = await a.request({ type: 'discover_peers' }, 'peer_list', WAIT);
  expect(fromA.type).toBe('peer_list');
  expect((fromA.peers as Array<{ peer_id: string }>).map((x) => x.peer_id)).toEqual([bId]);

  const fromB = await b.request({ type: 'discover_peers' }, 'peer_list', WAIT);
  expect(fromB.type).toBe('peer_list');
  const peers = fromB.peers as Array<Record<string, unknown>>;
  expect(peers).toHaveLength(1);
  expect(peers[0]).toMatchObject({ peer_id: aId, role: 'worker', metadata: A_METADATA });

  // A relay still goes through both ways.
  a.send({ type: 'peer_message', to_peer_id: bId, payload: { still: 'works' } });
  const relayed = await b.next('peer_message', WAIT);
  expect(relayed).toEqual({ type: 'peer_message', from_peer_id: aId, to_peer_id: bId, payload: { still: 'works' } });

  // The presence subscriber got no peer_updated / peer_left / anything else, and A nothing more.
  // Per-connection order makes waits unnecessary: anything caused by the bad frame was sent
  // before the replies awaited above, and unmatched messages stay queued.
  expect(b.drain()).toEqual([]);
  expect(a.drain()).toEqual([]);
}

/** Sends one bad frame from A, expects exactly one error reply, then checks nothing else changed. */
async function badFrame(p: Pair, frame: string | Buffer, binary: boolean, code: string, requestType: string | undefined) {
  p.a.sendRaw(frame, binary);
  const reply = await p.a.next(() => true, WAIT);
  expectError(reply, code, requestType);
  // Exactly one reply: checked in expectIntact (the next message must be the pong).
  await expectIntact(p);
}

const long = (n: number) => 'x'.repeat(n);

describe('frames that are not a JSON object → INVALID_JSON (no request_type)', () => {
  const cases: Array<[string, string]> = [
    ['plain text', 'hello there'],
    ['truncated JSON', '{"type":"ping"'],
    ['empty frame', ''],
    ['trailing garbage', '{"type":"ping"} x'],
    ['single quotes', "{'type':'ping'}"],
    ['array', '[{"type":"ping"}]'],
    ['empty array', '[]'],
    ['number', '42'],
    ['string', '"ping"'],
    ['null', 'null'],
    ['boolean', 'true'],
  ];
  it.each(cases)('%s', async (_name, frame) => {
    const p = await pair();
    await badFrame(p, frame, false, 'INVALID_JSON', undefined);
  });
});

describe('type missing or not a string → INVALID_MESSAGE without request_type', () => {
  const cases: Array<[string, Record<string, unknown>]> = [
    ['empty object', {}],
    ['no type', { to_peer_id: 'x', payload: 1 }],
    ['type null', { type: null }],
    ['type number', { type: 5 }],
    ['type boolean', { type: true }],
    ['type array', { type: ['ping'] }],
    ['type object', { type: { name: 'ping' } }],
  ];
  it.each(cases)('%s', async (_name, msg) => {
    const p = await pair();
    await badFrame(p, JSON.stringify(msg), false, 'INVALID_MESSAGE', undefined);
  });
});

describe('unknown type → UNKNOWN_MESSAGE_TYPE with request_type', () => {
  const cases: Array<[string, Record<string, unknown>, string]> = [
    ['empty type', { type: '' }, ''],
    ['unknown type', { type: 'nope' }, 'nope'],
    ['wrong case', { type: 'PING' }, 'PING'],
    ['server-only type', { type: 'registered' }, 'registered'],
    ['client error relay outside compat mode', { type: 'error', target: 'someone' }, 'error'],
    ['unknown type with bad fields too', { type: 'frobnicate', to_peer_id: 5, payload: null }, 'frobnicate'],
  ];
  it.each(cases)('%s', async (_name, msg, requestType) => {
    const p = await pair();
    await badFrame(p, JSON.stringify(msg), false, 'UNKNOWN_MESSAGE_TYPE', requestType);
  });
});

describe('wrong field types, missing required fields, null required fields → INVALID_MESSAGE with request_type', () => {
  // Built lazily: some need the pair's ids.
  const cases: Array<[string, (p: Pair) => Record<string, unknown>]> = [
    // register (as a re-registration of A: if it were accepted, A's registration would change)
    ['register room_id number', (p) => ({ type: 'register', room_id: 5, peer_id: p.aId })],
    ['register room_id null', (p) => ({ type: 'register', room_id: null, peer_id: p.aId, role: 'other' })],
    ['register room_id missing', (p) => ({ type: 'register', peer_id: p.aId, role: 'other' })],
    ['register room_id too long', (p) => ({ type: 'register', room_id: long(129), peer_id: p.aId })],
    ['register peer_id number', (p) => ({ type: 'register', room_id: p.room, peer_id: 7 })],
    ['register peer_id too long', (p) => ({ type: 'register', room_id: p.room, peer_id: long(129) })],
    ['register role number', (p) => ({ type: 'register', room_id: p.room, peer_id: p.aId, role: 5 })],
    ['register role too long', (p) => ({ type: 'register', room_id: p.room, peer_id: p.aId, role: long(65) })],
    ['register metadata array', (p) => ({ type: 'register', room_id: p.room, peer_id: p.aId, metadata: [] })],
    ['register metadata string', (p) => ({ type: 'register', room_id: p.room, peer_id: p.aId, metadata: 'x' })],
    ['register tags not a list', (p) => ({ type: 'register', room_id: p.room, peer_id: p.aId, metadata: { tags: 'gpu' } })],
    ['register tags of numbers', (p) => ({ type: 'register', room_id: p.room, peer_id: p.aId, metadata: { tags: [1, 2] } })],
    [
      'register too many tags',
      (p) => ({ type: 'register', room_id: p.room, peer_id: p.aId, metadata: { tags: Array.from({ length: 65 }, (_, i) => `t${i}`) } }),
    ],
    [
      'register metadata over 16 KiB',
      (p) => ({ type: 'register', room_id: p.room, peer_id: p.aId, metadata: { blob: long(16 * 1024) } }),
    ],
    ['register properties not an object', (p) => ({ type: 'register', room_id: p.room, peer_id: p.aId, metadata: { properties: 3 } })],
    ['register is_admin string', (p) => ({ type: 'register', room_id: p.room, peer_id: p.aId, is_admin: 'yes' })],
    ['register presence number', (p) => ({ type: 'register', room_id: p.room, peer_id: p.aId, presence: 1 })],
    ['register token number', (p) => ({ type: 'register', room_id: p.room, peer_id: p.aId, token: 1234 })],
    ['register session_token object', (p) => ({ type: 'register', room_id: p.room, peer_id: p.aId, session_token: {} })],
    // discover_peers
    ['discover filters string', () => ({ type: 'discover_peers', filters: 'gpu' })],
    ['discover filters array', () => ({ type: 'discover_peers', filters: [] })],
    ['discover role number', () => ({ type: 'discover_peers', filters: { role: 5 } })],
    ['discover tags string', () => ({ type: 'discover_peers', filters: { tags: 'gpu' } })],
    ['discover properties number', () => ({ type: 'discover_peers', filters: { properties: 5 } })],
    ['discover unknown operator', () => ({ type: 'discover_peers', filters: { properties: { k: { $regex: 'x' } } } })],
    ['discover mixed operator keys', () => ({ type: 'discover_peers', filters: { properties: { k: { $eq: 1, a: 2 } } } })],
    ['discover $in not an array', () => ({ type: 'discover_peers', filters: { properties: { k: { $in: 5 } } } })],
    ['discover $nin not an array', () => ({ type: 'discover_peers', filters: { properties: { k: { $nin: 'x' } } } })],
    ['discover $exists not a boolean', () => ({ type: 'discover_peers', filters: { properties: { k: { $exists: 'yes' } } } })],
    ['discover $gt boolean', () => ({ type: 'discover_peers', filters: { properties: { k: { $gt: true } } } })],
    ['discover identity field of wrong type', () => ({ type: 'discover_peers', from_peer_id: 5 })],
    // update_metadata
    ['update_metadata metadata missing', () => ({ type: 'update_metadata' })],
    ['update_metadata metadata null', () => ({ type: 'update_metadata', metadata: null })],
    ['update_metadata metadata number', () => ({ type: 'update_metadata', metadata: 5 })],
    ['update_metadata metadata array', () => ({ type: 'update_metadata', metadata: [{ tags: [] }] })],
    ['update_metadata tags of numbers', () => ({ type: 'update_metadata', metadata: { tags: [1] } })],
    ['update_metadata properties string', () => ({ type: 'update_metadata', metadata: { properties: 'x' } })],
    ['update_metadata merged result over 16 KiB', () => ({ type: 'update_metadata', metadata: { blob: long(16 * 1024) } })],
    ['update_metadata sender of wrong type', () => ({ type: 'update_metadata', metadata: { x: 1 }, sender: 9 })],
    // peer_message
    ['peer_message to_peer_id missing', () => ({ type: 'peer_message', payload: 1 })],
    ['peer_message to_peer_id null', () => ({ type: 'peer_message', to_peer_id: null, payload: 1 })],
    ['peer_message to_peer_id number', () => ({ type: 'peer_message', to_peer_id: 5, payload: 1 })],
    ['peer_message to_peer_id too long', () => ({ type: 'peer_message', to_peer_id: long(129), payload: 1 })],
    ['peer_message payload key missing', (p) => ({ type: 'peer_message', to_peer_id: p.bId })],
    ['peer_message from_peer_id of wrong type', (p) => ({ type: 'peer_message', to_peer_id: p.bId, payload: 1, from_peer_id: [] })],
    // offer / answer / candidate
    ['offer target missing', () => ({ type: 'offer', sdp: 'v=0' })],
    ['offer target null', () => ({ type: 'offer', target: null, sdp: 'v=0' })],
    ['answer target number', () => ({ type: 'answer', target: 5, sdp: 'v=0' })],
    ['candidate target array', (p) => ({ type: 'candidate', target: [p.bId], candidate: 'c' })],
    ['offer target too long', () => ({ type: 'offer', target: long(129), sdp: 'v=0' })],
    ['offer sender of wrong type', (p) => ({ type: 'offer', target: p.bId, sdp: 'v=0', sender: 1 })],
    // mesh
    ['mesh_connect target_peer_id missing', () => ({ type: 'mesh_connect', offer: { sdp: 'x' } })],
    ['mesh_connect offer missing', (p) => ({ type: 'mesh_connect', target_peer_id: p.bId })],
    ['mesh_connect offer null', (p) => ({ type: 'mesh_connect', target_peer_id: p.bId, offer: null })],
    ['mesh_answer answer null', (p) => ({ type: 'mesh_answer', target_peer_id: p.bId, answer: null })],
    ['mesh_answer target_peer_id number', () => ({ type: 'mesh_answer', target_peer_id: 1, answer: {} })],
    ['ice_candidate candidate null', (p) => ({ type: 'ice_candidate', target_peer_id: p.bId, candidate: null })],
    ['ice_candidate target_peer_id null', () => ({ type: 'ice_candidate', target_peer_id: null, candidate: {} })],
    // leave: if it were applied, A would be unregistered
    ['leave peer_id of wrong type', () => ({ type: 'leave', peer_id: 5 })],
  ];
  it.each(cases)('%s', async (_name, build) => {
    const p = await pair();
    const msg = build(p);
    await badFrame(p, JSON.stringify(msg), false, 'INVALID_MESSAGE', msg.type as string);
  });
});

describe('binary frames', () => {
  it('a binary frame gets INVALID_MESSAGE and the connection stays open', async () => {
    const p = await pair();
    await badFrame(p, Buffer.from([0xde, 0xad, 0xbe, 0xef, 0x00, 0xff]), true, 'INVALID_MESSAGE', undefined);
  });

  it('a binary frame holding a valid message is refused, not executed', async () => {
    const p = await pair();
    // A leave sent as binary: if it were executed, A would be unregistered and get `left`.
    await badFrame(p, Buffer.from(JSON.stringify({ type: 'leave' })), true, 'INVALID_MESSAGE', undefined);
    await badFrame(p, Buffer.from(JSON.stringify({ type: 'ping' })), true, 'INVALID_MESSAGE', undefined);
  });

  it('an empty binary frame gets INVALID_MESSAGE', async () => {
    const p = await pair();
    await badFrame(p, Buffer.alloc(0), true, 'INVALID_MESSAGE', undefined);
  });
});

describe('many bad inputs in a row on one connection', () => {
  it('each gets one reply, in order, and the connection keeps working', async () => {
    const p = await pair();
    const frames: Array<[string | Buffer, boolean, string, string | undefined]> = [
      ['nope', false, 'INVALID_JSON', undefined],
      ['[]', false, 'INVALID_JSON', undefined],
      ['{"type":7}', false, 'INVALID_MESSAGE', undefined],
      ['{"type":"zap"}', false, 'UNKNOWN_MESSAGE_TYPE', 'zap'],
      ['{"type":"peer_message","to_peer_id":null,"payload":1}', false, 'INVALID_MESSAGE', 'peer_message'],
      [Buffer.from('{"type":"ping"}'), true, 'INVALID_MESSAGE', undefined],
      ['{"type":"update_metadata","metadata":null}', false, 'INVALID_MESSAGE', 'update_metadata'],
    ];
    for (const [frame, binary] of frames) p.a.sendRaw(frame, binary);
    for (const [, , code, requestType] of frames) {
      const reply = await p.a.next(() => true, WAIT);
      expectError(reply, code, requestType);
    }
    await expectIntact(p);
  });
});

describe('bad input before registering', () => {
  it('parse and validation errors come before NOT_REGISTERED; the connection can still register', async () => {
    const server = await startServer();
    const room = freshRoom('bad-unreg');
    const { client: other } = await registeredPeer(server, { room_id: room, peer_id: `o-${room}`, presence: true });
    const c = await connect(server);
    const seq: Array<[string, string, string | undefined]> = [
      ['{', 'INVALID_JSON', undefined],
      ['"x"', 'INVALID_JSON', undefined],
      ['{"type":false}', 'INVALID_MESSAGE', undefined],
      ['{"type":"whatever"}', 'UNKNOWN_MESSAGE_TYPE', 'whatever'],
      ['{"type":"peer_message","to_peer_id":5,"payload":1}', 'INVALID_MESSAGE', 'peer_message'],
      ['{"type":"peer_message","to_peer_id":"x","payload":1}', 'NOT_REGISTERED', 'peer_message'],
    ];
    for (const [frame, code, requestType] of seq) {
      c.sendRaw(frame);
      expectError(await c.next(() => true, WAIT), code, requestType);
    }
    c.sendRaw(Buffer.from([1, 2, 3]), true);
    expectError(await c.next(() => true, WAIT), 'INVALID_MESSAGE', undefined);
    expect(await c.request({ type: 'ping' }, 'pong', WAIT)).toEqual({ type: 'pong' });
    const reg = await c.request({ type: 'register', room_id: room, peer_id: `c-${room}` }, 'registered', WAIT);
    expect(reg.type).toBe('registered');
    expect(reg.peer_list).toEqual([`o-${room}`]);
    // The subscriber saw only the join, nothing about the bad frames.
    const seen = await quiet(other, 100);
    expect(seen.map((m) => m.type)).toEqual(['peer_joined']);
  });
});

describe('frame size', () => {
  it('a frame over maxPayloadBytes closes the connection with 1009; others are unaffected', async () => {
    const p = await pair({ limits: { maxPayloadBytes: 4096 } });
    // Just under the limit is accepted and relayed.
    const payload = long(3800);
    p.a.send({ type: 'peer_message', to_peer_id: p.bId, payload });
    const got = await p.b.next('peer_message', WAIT);
    expect(got.payload).toBe(payload);

    p.a.sendRaw(JSON.stringify({ type: 'peer_message', to_peer_id: p.bId, payload: long(5000) }));
    const closed = await p.a.closed;
    expect(closed.code).toBe(1009);
    // B got no relay of the oversized frame; it sees A leave.
    const left = await p.b.next('peer_left', WAIT);
    expect(left).toEqual({ type: 'peer_left', peer_id: p.aId, reason: 'left' });
    expect(p.b.drain().filter((m) => m.type === 'peer_message')).toEqual([]);
    const list = await p.b.request({ type: 'discover_peers' }, 'peer_list', WAIT);
    expect(list.peers).toEqual([]);
    expect(await p.b.request({ type: 'ping' }, 'pong', WAIT)).toEqual({ type: 'pong' });
  });

  it('an oversized binary frame also closes with 1009', async () => {
    const p = await pair({ limits: { maxPayloadBytes: 4096 } });
    p.a.sendRaw(Buffer.alloc(8192, 1), true);
    expect((await p.a.closed).code).toBe(1009);
    expect(await p.b.request({ type: 'ping' }, 'pong', WAIT)).toEqual({ type: 'pong' });
  });
});

describe('odd but valid input', () => {
  // JSON nested deeper than the server can re-serialise (V8 stops near 4,000 levels) is a
  // documented limit: INVALID_MESSAGE, nothing applied, nothing delivered.
  it('a payload nested too deeply is refused with INVALID_MESSAGE and not delivered', async () => {
    const p = await pair();
    const depth = 6000; // 12 KB of JSON, far below the 1 MiB frame limit
    const frame = `{"type":"peer_message","to_peer_id":${JSON.stringify(p.bId)},"payload":${'['.repeat(depth)}${']'.repeat(depth)}}`;
    p.a.sendRaw(frame);
    const reply = await p.a.next(() => true, WAIT);
    expect(reply).toMatchObject({ type: 'error', code: 'INVALID_MESSAGE', request_type: 'peer_message' });
    expect(String(reply.message)).toMatch(/nested too deeply/);
    expect(await quiet(p.b)).toEqual([]);
    // A payload nested 500 deep is fine.
    p.a.sendRaw(`{"type":"peer_message","to_peer_id":${JSON.stringify(p.bId)},"payload":${'['.repeat(500)}${']'.repeat(500)}}`);
    expect((await p.b.next('peer_message', WAIT)).from_peer_id).toBe(p.aId);
  });

  it('metadata nested too deeply is refused at register and changes nothing', async () => {
    const server = await startServer();
    const room = freshRoom('deep-meta');
    const depth = 6000; // 12 KB as JSON, under the 16 KiB metadata limit
    const metadataJson = `{"deep":${'['.repeat(depth)}${']'.repeat(depth)}}`;
    const c = await connect(server);
    c.sendRaw(`{"type":"register","room_id":${JSON.stringify(room)},"peer_id":"deep","metadata":${metadataJson}}`);
    const reply = await c.next((m) => m.type === 'registered' || m.type === 'error', WAIT);
    expect(reply).toMatchObject({ type: 'error', code: 'INVALID_MESSAGE', request_type: 'register' });
    const probe = await registeredPeer(server, { room_id: room, peer_id: 'probe' });
    expect(probe.registered.peer_list).toEqual([]);
    expect((await c.request({ type: 'register', room_id: room, peer_id: 'deep' }, 'registered', WAIT)).type).toBe('registered');
  });

  it('identifiers exactly at their length limits are accepted', async () => {
    const server = await startServer();
    const room = `r${long(127)}`;
    const { registered } = await registeredPeer(server, { room_id: room, peer_id: `p${long(127)}`, role: long(64) });
    expect(registered.room_id).toBe(room);
    expect(registered.role).toBe(long(64));
  });
});

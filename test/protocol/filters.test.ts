import { describe, expect, it } from 'vitest';
import { startServer } from '../helpers/harness.js';
import type { SignalingServer } from '../../src/server/signaling-server.js';
import type { SignalClient } from './support.js';
import { discover, discoverIds, expectError, freshRoom, injectPeer, peer } from './support.js';

/**
 * The room every filter case runs against. Ids sort in registration order, so discovery order
 * is the order of this list whatever connected_at ties occur.
 */
const FIXTURE: [string, Record<string, unknown>][] = [
  [
    'p1',
    {
      role: 'worker',
      metadata: {
        tags: ['gpu', 'a100'],
        properties: { n: 1, s: 'apple', flag: true, obj: { a: 1, b: [1, 2] }, arr: [1, 2], nil: null, empty: {} },
      },
    },
  ],
  ['p2', { role: 'worker', metadata: { tags: ['gpu'], properties: { n: 5, s: 'Banana', flag: false, obj: { b: [1, 2], a: 1 }, arr: [2, 1] } } }],
  ['p3', { role: 'client', metadata: { tags: ['cpu'], properties: { n: 10, s: 'cherry', empty: { a: 1 } } } }],
  // Types swapped: a string n and a number s.
  ['p4', { role: 'client', metadata: { properties: { n: '5', s: 10 } } }],
  // No metadata at all.
  ['p5', {}],
  // Stored values that look like operator objects are just data.
  ['p6', { role: 'peer', metadata: { tags: [], properties: { n: { $gt: 0 }, $k: 'dollar' } } }],
];
const ALL = FIXTURE.map(([id]) => id);

async function fixtureRoom(): Promise<{ server: SignalingServer; me: SignalClient }> {
  const server = await startServer();
  const room = freshRoom();
  for (const [id, fields] of FIXTURE) await peer(server, { room_id: room, peer_id: id, ...fields });
  const me = await peer(server, { room_id: room, peer_id: 'searcher', role: 'worker', metadata: { tags: ['gpu'], properties: { n: 5 } } });
  return { server, me: me.client };
}

const but = (...ids: string[]) => ALL.filter((id) => !ids.includes(id));

const MATCHING: [string, Record<string, unknown>, string[]][] = [
  // role
  ['role: exact match', { role: 'worker' }, ['p1', 'p2']],
  ['role: no prefix match', { role: 'work' }, []],
  // tags
  ['tags: one tag', { tags: ['gpu'] }, ['p1', 'p2']],
  ['tags: any of the listed', { tags: ['a100', 'cpu'] }, ['p1', 'p3']],
  ['tags: none present', { tags: ['tpu'] }, []],
  ['tags: empty list does not constrain', { tags: [] }, ALL],
  // properties: deep equality
  ['properties: number equality is typed', { properties: { n: 5 } }, ['p2']],
  ['properties: string equality is typed', { properties: { n: '5' } }, ['p4']],
  ['properties: object equality ignores key order', { properties: { obj: { b: [1, 2], a: 1 } } }, ['p1', 'p2']],
  ['properties: array equality keeps order', { properties: { arr: [1, 2] } }, ['p1']],
  ['properties: {key: null} matches only a present null', { properties: { nil: null } }, ['p1']],
  ['properties: {} is deep equality with {}', { properties: { empty: {} } }, ['p1']],
  ['properties: boolean equality', { properties: { flag: false } }, ['p2']],
  ['properties: every key must hold', { properties: { n: 1, s: 'apple' } }, ['p1']],
  ['properties: every key must hold (one fails)', { properties: { n: 1, s: 'Banana' } }, []],
  ['properties: a $-prefixed key is a plain key', { properties: { $k: 'dollar' } }, ['p6']],
  ['properties: an object value without $ keys is deep equality', { properties: { obj: { a: 1 } } }, []],
  // $eq
  ['$eq: number', { properties: { n: { $eq: 5 } } }, ['p2']],
  ['$eq: deep', { properties: { obj: { $eq: { a: 1, b: [1, 2] } } } }, ['p1', 'p2']],
  ['$eq: null matches only a present null', { properties: { nil: { $eq: null } } }, ['p1']],
  ['$eq: a stored operator-looking object', { properties: { n: { $eq: { $gt: 0 } } } }, ['p6']],
  // $ne
  ['$ne: matches other values and missing keys', { properties: { n: { $ne: 5 } } }, but('p2')],
  ['$ne: deep', { properties: { obj: { $ne: { a: 1, b: [1, 2] } } } }, but('p1', 'p2')],
  ['$ne: null', { properties: { nil: { $ne: null } } }, but('p1')],
  // order operators on numbers
  ['$gt: number', { properties: { n: { $gt: 1 } } }, ['p2', 'p3']],
  ['$gte: number', { properties: { n: { $gte: 5 } } }, ['p2', 'p3']],
  ['$lt: number', { properties: { n: { $lt: 5 } } }, ['p1']],
  ['$lte: number', { properties: { n: { $lte: 5 } } }, ['p1', 'p2']],
  ['$gt: fractional operand', { properties: { n: { $gt: 4.5 } } }, ['p2', 'p3']],
  ['$gt and $lt together: all must hold', { properties: { n: { $gt: 1, $lt: 10 } } }, ['p2']],
  ['$gte and $lte together', { properties: { n: { $gte: 1, $lte: 10 } } }, ['p1', 'p2', 'p3']],
  // order operators on strings (code unit order: uppercase before lowercase)
  ['$gt: string', { properties: { s: { $gt: 'apple' } } }, ['p3']],
  ['$lt: string', { properties: { s: { $lt: 'apple' } } }, ['p2']],
  ['$gte/$lt: string range', { properties: { s: { $gte: 'Banana', $lt: 'cherry' } } }, ['p1', 'p2']],
  // different types never match order operators
  ['$gt: a string operand never matches numbers', { properties: { n: { $gt: '0' } } }, ['p4']],
  ['$lt: a number operand never matches strings', { properties: { s: { $lt: 100 } } }, ['p4']],
  ['$gte: never matches a missing key', { properties: { missing: { $gte: 0 } } }, []],
  ['$lte: never matches objects or arrays', { properties: { obj: { $lte: 'zzz' } } }, []],
  // $in / $nin
  ['$in: any of', { properties: { n: { $in: [1, 10, '5'] } } }, ['p1', 'p3', 'p4']],
  ['$in: deep', { properties: { obj: { $in: [{ b: [1, 2], a: 1 }, 'x'] } } }, ['p1', 'p2']],
  ['$in: null matches only a present null', { properties: { nil: { $in: [null] } } }, ['p1']],
  ['$in: empty list matches nothing', { properties: { n: { $in: [] } } }, []],
  ['$nin: none of, missing keys match', { properties: { n: { $nin: [1, 10] } } }, ['p2', 'p4', 'p5', 'p6']],
  ['$nin: empty list matches everything', { properties: { n: { $nin: [] } } }, ALL],
  // $exists
  ['$exists: true matches a present null', { properties: { nil: { $exists: true } } }, ['p1']],
  ['$exists: true', { properties: { n: { $exists: true } } }, but('p5')],
  ['$exists: false', { properties: { n: { $exists: false } } }, ['p5']],
  ['$exists: false on a present null', { properties: { nil: { $exists: false } } }, but('p1')],
  ['$exists with another operator', { properties: { n: { $exists: true, $ne: 1 } } }, ['p2', 'p3', 'p4', 'p6']],
  // combined
  ['role, tags and properties together', { role: 'worker', tags: ['a100', 'cpu'], properties: { n: { $gte: 1 } } }, ['p1']],
  ['unknown filter keys are ignored', { room_id: 'elsewhere', sort: 'desc', role: 'client' }, ['p3', 'p4']],
];

describe('discover_peers filters', () => {
  for (const [name, filters, expected] of MATCHING) {
    it(name, async () => {
      const { me } = await fixtureRoom();
      expect(await discoverIds(me, filters)).toEqual(expected);
    });
  }

  it('orders strings by UTF-16 code unit', async () => {
    const server = await startServer();
    const room = freshRoom();
    // U+10000 is D800 DC00 in UTF-16: below U+FFFF by code unit, above it by code point.
    await peer(server, { room_id: room, peer_id: 'astral', metadata: { properties: { s: '\u{10000}' } } });
    await peer(server, { room_id: room, peer_id: 'bmp', metadata: { properties: { s: '\uFFFF' } } });
    const me = await peer(server, { room_id: room, peer_id: 'me' });
    expect(await discoverIds(me.client, { properties: { s: { $gt: '\uFFFE' } } })).toEqual(['bmp']);
    expect(await discoverIds(me.client, { properties: { s: { $lt: '\uFFFF' } } })).toEqual(['astral']);
  });

  const INVALID: [string, unknown][] = [
    ['an unknown operator', { n: { $regex: '^a' } }],
    ['a lone $', { n: { $: 1 } }],
    ['operator and plain keys mixed', { n: { $gt: 1, plain: 2 } }],
    ['plain and operator keys mixed', { n: { plain: 2, $gt: 1 } }],
    ['$in not an array', { n: { $in: 5 } }],
    ['$in null', { n: { $in: null } }],
    ['$nin not an array', { n: { $nin: 'abc' } }],
    ['$exists not a boolean', { n: { $exists: 'yes' } }],
    ['$exists a number', { n: { $exists: 1 } }],
    ['$exists null', { n: { $exists: null } }],
    ['$gt with an object', { n: { $gt: { a: 1 } } }],
    ['$gte with an array', { n: { $gte: [1] } }],
    ['$lt with a boolean', { n: { $lt: true } }],
    ['$lte with null', { n: { $lte: null } }],
    ['a bad operator after a good key', { n: 5, s: { $nope: 1 } }],
  ];
  for (const [name, properties] of INVALID) {
    it(`refuses ${name} with INVALID_MESSAGE`, async () => {
      const server = await startServer();
      const me = await peer(server, { room_id: freshRoom() });
      await expectError(me.client, { type: 'discover_peers', filters: { properties } }, 'INVALID_MESSAGE', 'discover_peers');
      // The connection is fine afterwards.
      expect(await discoverIds(me.client)).toEqual([]);
    });
  }

  it('never fails on odd stored data (tags not an array, properties not an object)', async () => {
    const server = await startServer();
    const room = freshRoom();
    await peer(server, { room_id: room, peer_id: 'a-normal', metadata: { tags: ['gpu'], properties: { n: 1 } } });
    // What a client cannot send, but another writer of shared state might have stored.
    const odd: [string, Record<string, unknown>][] = [
      ['b-tags-string', { tags: 'gpu', properties: 'n=1' }],
      ['c-tags-object', { tags: { gpu: true }, properties: [1, 2] }],
      ['d-tags-mixed', { tags: [1, null, { t: 'gpu' }, 'gpu'], properties: null }],
      ['e-tags-null', { tags: null, properties: 42 }],
    ];
    let t = Date.now() / 1000;
    for (const [peerId, metadata] of odd) {
      await injectPeer(server, { peerId, roomId: room, connectedAt: (t += 0.001), metadata });
    }
    const me = await peer(server, { room_id: room, peer_id: 'me' });
    const everyone = ['a-normal', 'b-tags-string', 'c-tags-object', 'd-tags-mixed', 'e-tags-null'];
    expect(await discoverIds(me.client)).toEqual(everyone);
    const byTag = await discoverIds(me.client, { tags: ['gpu'] });
    expect(byTag).toContain('a-normal');
    expect(byTag).not.toContain('b-tags-string');
    expect(byTag).not.toContain('c-tags-object');
    expect(byTag).not.toContain('e-tags-null');
    expect(await discoverIds(me.client, { properties: { n: 1 } })).toEqual(['a-normal']);
    expect(await discoverIds(me.client, { properties: { n: { $gte: 0 } } })).toEqual(['a-normal']);
    expect(await discoverIds(me.client, { properties: { n: { $exists: false } } })).toEqual(everyone.slice(1));
    expect(await discoverIds(me.client, { properties: { n: { $ne: 1 } } })).toEqual(everyone.slice(1));
    expect(await discoverIds(me.client, { properties: { n: { $in: [1] }, m: { $nin: [1] } } })).toEqual(['a-normal']);
    // The odd data is listed as stored.
    const listed = await discover(me.client);
    expect((listed.peers as { metadata: unknown }[])[1]!.metadata).toEqual({ tags: 'gpu', properties: 'n=1' });
  });
});

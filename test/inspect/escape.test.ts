import { describe, expect, it } from 'vitest';
import { clean, cleanJson } from '../../src/inspect/columns.js';
import { formatProperties, formatRoles, formatTags, PLAIN } from '../../src/inspect/format.js';
import { peerTable, roomsTable, roomTable } from '../../src/inspect/tables.js';
import type { PeerDetail, PeerView, RoomDetail } from '../../src/admin/cluster-reader.js';

/**
 * Issue 12, finding 3 (inspect): bidi overrides, zero-width characters and control characters
 * in client-supplied text reached the operator's tables raw, so `gpu-worker-1\u200b` passed for
 * `gpu-worker-1` and U+202E could reverse what follows it. They are shown as visible escapes.
 */

/** Every character that must never reach the terminal raw. */
const HIDDEN = /[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u061c\u200b-\u200f\u2028-\u202e\u2060-\u2069\ufeff]|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

describe('clean', () => {
  it('shows zero-width characters as \\u escapes', () => {
    expect(clean('gpu-worker-1\u200b')).toBe('gpu-worker-1\\u200b');
    expect(clean('a\u200cb\u200dc\u2060d\ufeffe')).toBe('a\\u200cb\\u200dc\\u2060d\\ufeffe');
  });

  it('shows bidi controls as \\u escapes', () => {
    for (const cp of [0x202a, 0x202b, 0x202c, 0x202d, 0x202e, 0x2066, 0x2067, 0x2068, 0x2069, 0x200e, 0x200f, 0x061c]) {
      const ch = String.fromCharCode(cp);
      expect(clean(`x${ch}y`)).toBe(`x\\u${cp.toString(16).padStart(4, '0')}y`);
    }
  });

  it('shows line and paragraph separators and lone surrogates as \\u escapes', () => {
    expect(clean('a\u2028b\u2029c')).toBe('a\\u2028b\\u2029c');
    expect(clean('boss\ud800')).toBe('boss\\ud800');
    expect(clean('\udc00boss')).toBe('\\udc00boss');
  });

  it('still shows C0 and C1 controls as \\x escapes, and leaves ordinary text alone', () => {
    expect(clean('evil\u001b[2Jpeer\n')).toBe('evil\\x1b[2Jpeer\\x0a');
    expect(clean('\u009bcsi')).toBe('\\x9bcsi');
    const ordinary = 'gpu-\u{1F680} 研究室 café e\u0301';
    expect(clean(ordinary)).toBe(ordinary);
  });
});

describe('cleanJson', () => {
  it('escapes bidi and zero-width characters the JSON way, so it is still JSON', () => {
    const json = JSON.stringify({ 'k\u202e': 'gpu-worker-1\u200b', s: '\u2066x\u2069' });
    const shown = cleanJson(json);
    expect(shown).toBe('{"k\\u202e":"gpu-worker-1\\u200b","s":"\\u2066x\\u2069"}');
    expect(JSON.parse(shown)).toEqual(JSON.parse(json));
    expect(shown).not.toMatch(HIDDEN);
  });
});

describe('formatters', () => {
  it('escape roles, tags and properties', () => {
    expect(formatRoles({ 'worker\u200b': 1 })).toBe('worker\\u200b 1');
    expect(formatTags(['gpu\u202e'], 100)).toBe('gpu\\u202e');
    expect(formatProperties({ 'k\u2066': 'v\ufeff' })).toBe('k\\u2066=v\\ufeff');
  });
});

describe('tables end to end', () => {
  const now = 1_800_000_000_000;
  const view = (peerId: string, extra: Partial<PeerView> = {}): PeerView => ({
    peerId,
    roomId: 'lab\u202e',
    role: 'worker\u200b',
    metadata: { tags: ['gpu\u2060'], properties: { 'gpu\u2067': 'a100\u200d' } },
    tags: ['gpu\u2060'],
    properties: { 'gpu\u2067': 'a100\u200d' },
    connectedAt: now / 1000 - 60,
    serverId: 'vm-1\ufeff',
    connectionId: 'c-1\u2028',
    instanceStatus: 'live',
    presence: false,
    admin: false,
    subject: 'jwt:iss:\u202dsub',
    ...extra,
  });

  it('room, rooms and peer tables show the forged id apart from the real one', () => {
    const real = view('gpu-worker-1');
    const forged = view('gpu-worker-1\u200b');
    const room: RoomDetail = {
      roomId: 'lab\u202e',
      peers: 2,
      roles: { 'worker\u200b': 2 },
      admin: 'gpu-worker-1\u200b',
      createdAt: now - 120_000,
      lastUsed: now - 1000,
      expiresInMs: null,
      peerList: [real, forged],
      createdRoom: null,
    };
    const roomText = roomTable(room, [real, forged], { role: 'worker\u200b', tags: ['gpu\u2060'] }, now, PLAIN);
    expect(roomText).not.toMatch(HIDDEN);
    expect(roomText).toContain('gpu-worker-1\\u200b');
    expect(roomText).toContain('lab\\u202e');
    const lines = roomText.split('\n').filter((l) => l.startsWith('gpu-worker-1'));
    expect(lines).toHaveLength(2);
    expect(lines[0]).not.toBe(lines[1]);

    const roomsText = roomsTable({ indexed: 1, rooms: [room], truncated: false }, now, PLAIN);
    expect(roomsText).not.toMatch(HIDDEN);
    expect(roomsText).toContain('lab\\u202e');

    const detail: PeerDetail = {
      ...forged,
      instance: {
        serverId: 'vm-1\ufeff',
        status: 'live',
        host: 'h\u200b',
        port: 1,
        version: '1\u202e',
        startedAt: now,
        heartbeatAt: now,
        connections: 1,
        peers: 1,
        heldPeers: 1,
        relayedTotal: 0,
        relayRate: 0,
      },
    };
    const peerText = peerTable(detail, now, PLAIN);
    expect(peerText).not.toMatch(HIDDEN);
    expect(peerText).toContain('gpu-worker-1\\u200b');
    expect(peerText).toContain('"gpu\\u2067":"a100\\u200d"');
  });
});

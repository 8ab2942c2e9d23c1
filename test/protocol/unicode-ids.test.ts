import { describe, expect, it } from 'vitest';
import { startServer } from '../helpers/harness.js';
import { MessageValidator } from '../../src/protocol/validate.js';
import { DEFAULT_LIMITS } from '../../src/protocol/limits.js';
import { discoverIds, expectError, freshRoom, open, peer, register } from './support.js';

/**
 * Issue 12, finding 2: ids that are not well-formed Unicode. A lone surrogate becomes U+FFFD
 * once encoded as UTF-8 (as Redis keys are), so `V\ud800` and `V\udc00` were one room on
 * Redis, and `boss\ud800` collided with `boss\ufffd`. Such ids are refused as INVALID_MESSAGE.
 */

const LONE = ['\ud800', '\udc00', 'a\udbffz', '\udc00\ud800'];

describe('ids must be well-formed Unicode', () => {
  for (const field of ['room_id', 'peer_id', 'role'] as const) {
    for (const bad of LONE) {
      it(`register refuses a ${field} with a lone surrogate (${JSON.stringify(bad)})`, async () => {
        const server = await startServer();
        const client = await open(server);
        const fields = { room_id: freshRoom(), peer_id: 'boss', [field]: `V${bad}` };
        const reply = await expectError(client, { type: 'register', ...fields }, 'INVALID_MESSAGE');
        expect(reply.message).toMatch(new RegExp(`^${field}: .*well-formed Unicode`));
        // Nothing was registered.
        await expectError(client, { type: 'discover_peers' }, 'NOT_REGISTERED');
      });
    }
  }

  it('rooms that differ only in a lone surrogate can no longer meet', async () => {
    const server = await startServer();
    const a = await open(server);
    const b = await open(server);
    await expectError(a, { type: 'register', room_id: 'V\ud800', peer_id: 'boss\ud800' }, 'INVALID_MESSAGE');
    await expectError(b, { type: 'register', room_id: 'V\udc00', peer_id: 'boss\ufffd' }, 'INVALID_MESSAGE');
    // U+FFFD itself is a proper character.
    const ok = await register(b, { room_id: 'V\ufffd', peer_id: 'boss\ufffd' });
    expect(ok.type).toBe('registered');
  });

  it('well-formed ids outside the BMP (surrogate pairs) are fine', async () => {
    const server = await startServer();
    const room = `lab-\u{1F52C}-${freshRoom()}`;
    const worker = await peer(server, { room_id: room, peer_id: 'gpu-\u{1F680}', role: 'w\u{10000}rker' });
    expect(worker.registered.peer_id).toBe('gpu-\u{1F680}');
    const me = await peer(server, { room_id: room, peer_id: 'me' });
    expect(await discoverIds(me.client)).toEqual(['gpu-\u{1F680}']);
  });

  const RELAYS: [string, Record<string, unknown>][] = [
    ['peer_message', { type: 'peer_message', to_peer_id: 'boss\ud800', payload: 1 }],
    ['offer', { type: 'offer', target: 'boss\ud800', sdp: 'x' }],
    ['answer', { type: 'answer', target: '\udc00boss', sdp: 'x' }],
    ['candidate', { type: 'candidate', target: 'boss\udc00', candidate: 'x' }],
    ['mesh_connect', { type: 'mesh_connect', target_peer_id: 'boss\ud800', offer: {} }],
    ['mesh_answer', { type: 'mesh_answer', target_peer_id: 'boss\ud800', answer: {} }],
    ['ice_candidate', { type: 'ice_candidate', target_peer_id: 'boss\ud800', candidate: {} }],
  ];
  for (const [name, message] of RELAYS) {
    it(`${name} refuses a target with a lone surrogate`, async () => {
      const server = await startServer();
      const room = freshRoom();
      const boss = await peer(server, { room_id: room, peer_id: 'boss\ufffd' });
      const me = await peer(server, { room_id: room, peer_id: 'me' });
      const reply = await expectError(me.client, message, 'INVALID_MESSAGE');
      expect(reply.message).toMatch(/well-formed Unicode/);
      expect(boss.client.drain()).toEqual([]);
    });
  }
});

describe('the validator (unit)', () => {
  const validator = new MessageValidator({ limits: DEFAULT_LIMITS, compat: true });
  const parse = (message: Record<string, unknown>) => validator.parse(JSON.stringify(message));

  it('refuses lone surrogates in every id field, accepts pairs', () => {
    expect(parse({ type: 'register', room_id: 'r', peer_id: 'p\ud83d' })).toMatchObject({
      ok: false,
      error: { code: 'INVALID_MESSAGE', message: expect.stringMatching(/^peer_id: /) },
    });
    expect(parse({ type: 'error', target: '\ude00' })).toMatchObject({ ok: false, error: { code: 'INVALID_MESSAGE' } });
    expect(parse({ type: 'register', room_id: 'r\ud83d\ude00', peer_id: 'p\ud83d\ude00', role: '\u{1F600}' }).ok).toBe(true);
    // Raw escapes in the frame text are the same as characters.
    expect(validator.parse('{"type":"register","room_id":"r","peer_id":"\\udc00"}').ok).toBe(false);
  });
});

describe('room ids given to the operator endpoints must be well-formed Unicode too', () => {
  it('create-room and API keys refuse a room id with a lone surrogate (400), and accept a proper one', async () => {
    const server = await startServer({ rooms: 'token' });
    const post = (path: string, body: unknown) =>
      fetch(`${server.url.replace('ws://', 'http://')}${path}`, { method: 'POST', body: JSON.stringify(body) });
    const room = await post('/create-room', { room_id: 'lab\ud800' });
    expect(room.status).toBe(400);
    expect(((await room.json()) as { error: string }).error).toMatch(/well-formed Unicode/);
    const key = await post('/admin/keys', { room_id: 'lab\udc00', name: 'w' });
    expect(key.status).toBe(400);
    expect(((await key.json()) as { error: string }).error).toMatch(/well-formed Unicode/);
    expect((await post('/create-room', { room_id: 'lab\ufffd' })).status).toBe(200);
    await server.stop();
  });
});

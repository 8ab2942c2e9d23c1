import { describe, expect, it } from 'vitest';
import { startServer } from '../helpers/harness.js';
import { MessageValidator } from '../../src/protocol/validate.js';
import { DEFAULT_LIMITS } from '../../src/protocol/limits.js';
import { discover, expectMessage, freshRoom, open, peer, type SignalClient } from './support.js';

/**
 * Issue 12, finding 5: `1e400` parses to Infinity, which the in-memory backend kept while Redis
 * (JSON) turned it into null. A number JSON cannot carry is refused as INVALID_MESSAGE wherever
 * it sits in a message.
 */

/** Sends `text` as it is and returns the `error` reply. */
async function errorFor(client: SignalClient, text: string) {
  client.sendRaw(text);
  const reply = await expectMessage(client, 'error');
  return reply;
}

describe('numbers beyond a double are refused', () => {
  it('register with metadata {"x":1e400} is INVALID_MESSAGE and registers nothing', async () => {
    const server = await startServer();
    const room = freshRoom();
    const client = await open(server);
    const reply = await errorFor(client, `{"type":"register","room_id":"${room}","peer_id":"inf","metadata":{"x":1e400}}`);
    expect(reply).toMatchObject({ code: 'INVALID_MESSAGE', request_type: 'register' });
    expect(reply.message).toMatch(/^metadata\.x: .*finite/);
    const other = await peer(server, { room_id: room, peer_id: 'other' });
    expect((await discover(other.client)).peers).toEqual([]);
  });

  it('deep inside properties, negative, and as a long digit string too', async () => {
    const server = await startServer();
    const client = await open(server);
    const room = freshRoom();
    for (const [json, where] of [
      ['{"properties":{"a":[1,{"b":-1e999}]}}', /^metadata\.properties\.a\.1\.b: /],
      [`{"big":${'9'.repeat(400)}}`, /^metadata\.big: /],
      ['{"x":1E+309}', /^metadata\.x: /],
    ] as const) {
      const reply = await errorFor(client, `{"type":"register","room_id":"${room}","metadata":${json}}`);
      expect(reply.code).toBe('INVALID_MESSAGE');
      expect(reply.message).toMatch(where);
    }
    // Tiny numbers underflow to 0, which is a number JSON carries: accepted.
    client.sendRaw(`{"type":"register","room_id":"${room}","metadata":{"x":1e-400,"y":1.7976931348623157e308}}`);
    const ok = await expectMessage(client, (m) => m.type === 'registered' || m.type === 'error');
    expect(ok.type, JSON.stringify(ok)).toBe('registered');
  });

  it('update_metadata with 1e400 is INVALID_MESSAGE and leaves the metadata as it was', async () => {
    const server = await startServer();
    const room = freshRoom();
    const me = await peer(server, { room_id: room, peer_id: 'me', metadata: { properties: { x: 1 } } });
    const reply = await errorFor(me.client, '{"type":"update_metadata","metadata":{"properties":{"x":1e400}}}');
    expect(reply).toMatchObject({ code: 'INVALID_MESSAGE', request_type: 'update_metadata' });
    expect(reply.message).toMatch(/^metadata\.properties\.x: .*finite/);
    const other = await peer(server, { room_id: room, peer_id: 'other' });
    const listed = (await discover(other.client)).peers as { metadata: unknown }[];
    expect(listed[0]!.metadata).toEqual({ properties: { x: 1 } });
  });

  it('discover filters and relayed values with 1e400 are INVALID_MESSAGE', async () => {
    const server = await startServer();
    const room = freshRoom();
    const target = await peer(server, { room_id: room, peer_id: 't' });
    const me = await peer(server, { room_id: room, peer_id: 'me' });
    for (const text of [
      '{"type":"discover_peers","filters":{"properties":{"x":{"$gt":1e400}}}}',
      '{"type":"discover_peers","filters":{"properties":{"x":{"$in":[1,-1e400]}}}}',
      '{"type":"peer_message","to_peer_id":"t","payload":{"n":1e400}}',
      '{"type":"offer","target":"t","sdp":"x","extra":[1e400]}',
      '{"type":"mesh_connect","target_peer_id":"t","offer":1e400}',
    ]) {
      const reply = await errorFor(me.client, text);
      expect(reply.code, text).toBe('INVALID_MESSAGE');
      expect(reply.message, text).toMatch(/finite/);
    }
    expect(target.client.drain()).toEqual([]);
  });
});

describe('the validator (unit)', () => {
  it('names the path of the first non-finite number, even very deep down', () => {
    const validator = new MessageValidator({ limits: DEFAULT_LIMITS, compat: false });
    const deep = `${'['.repeat(5000)}1e400${']'.repeat(5000)}`;
    const result = validator.parse(`{"type":"peer_message","to_peer_id":"t","payload":${deep}}`);
    expect(result.ok).toBe(false);
    if (!result.ok) {
      expect(result.error.code).toBe('INVALID_MESSAGE');
      expect(result.error.message).toMatch(/^payload\.0\.0\.0.*: .*finite/);
    }
    expect(validator.parse('{"type":"peer_message","to_peer_id":"t","payload":[1e308,-0,0.1]}').ok).toBe(true);
  });
});

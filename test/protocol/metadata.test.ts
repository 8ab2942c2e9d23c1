import { describe, expect, it } from 'vitest';
import { startServer } from '../helpers/harness.js';
import type { SignalingServer } from '../../src/server/signaling-server.js';
import { chars, discover, discoverIds, expectError, expectMessage, expectNothing, freshRoom, open, peer, type SignalClient } from './support.js';

async function setup(initial: Record<string, unknown>): Promise<{ server: SignalingServer; me: SignalClient; watch: SignalClient }> {
  const server = await startServer();
  const room = freshRoom();
  const watch = await peer(server, { room_id: room, peer_id: 'watch', presence: true });
  const me = await peer(server, { room_id: room, peer_id: 'me', role: 'worker', metadata: initial });
  await expectMessage(watch.client, 'peer_joined');
  return { server, me: me.client, watch: watch.client };
}

async function update(client: SignalClient, metadata: unknown) {
  const reply = await client.request({ type: 'update_metadata', metadata }, 'metadata_updated');
  expect(reply.type, JSON.stringify(reply)).toBe('metadata_updated');
  return reply;
}

async function storedMetadata(watch: SignalClient): Promise<unknown> {
  const list = await discover(watch);
  return (list.peers as { peer_id: string; metadata: unknown }[]).find((p) => p.peer_id === 'me')?.metadata;
}

describe('update_metadata', () => {
  const MERGES: [string, Record<string, unknown>, Record<string, unknown>, Record<string, unknown>][] = [
    ['adds a new top-level key', { tags: ['a'] }, { version: 2 }, { tags: ['a'], version: 2 }],
    ['replaces other top-level keys whole', { info: { a: 1, b: 2 } }, { info: { c: 3 } }, { info: { c: 3 } }],
    ['removes a top-level key set to null', { tags: ['a'], version: 1 }, { version: null }, { tags: ['a'] }],
    ['removes properties entirely with properties: null', { properties: { a: 1 } }, { properties: null }, {}],
    ['removes tags with tags: null', { tags: ['a'], x: 1 }, { tags: null }, { x: 1 }],
    ['ignores null for a key that is not there', { x: 1 }, { y: null }, { x: 1 }],
    ['replaces the tag list', { tags: ['a', 'b'] }, { tags: ['c'] }, { tags: ['c'] }],
    ['replaces the tag list with an empty one', { tags: ['a', 'b'] }, { tags: [] }, { tags: [] }],
    [
      'merges properties key by key',
      { properties: { a: 1, b: { deep: 1 } } },
      { properties: { b: { other: 2 }, c: 3 } },
      { properties: { a: 1, b: { other: 2 }, c: 3 } },
    ],
    ['deletes a property set to null', { properties: { a: 1, b: 2 } }, { properties: { a: null } }, { properties: { b: 2 } }],
    ['creates properties when there were none', { tags: ['t'] }, { properties: { a: 1, gone: null } }, { tags: ['t'], properties: { a: 1 } }],
    ['keeps properties when the patch has none', { properties: { a: 1 } }, { tags: ['x'] }, { properties: { a: 1 }, tags: ['x'] }],
    ['an empty patch changes nothing', { tags: ['a'], properties: { a: 1 } }, {}, { tags: ['a'], properties: { a: 1 } }],
    ['keeps nulls nested below properties values', { properties: { a: { x: 1 } } }, { properties: { a: { x: null } } }, { properties: { a: { x: null } } }],
  ];
  for (const [name, initial, patch, merged] of MERGES) {
    it(name, async () => {
      const { me, watch } = await setup(initial);
      const reply = await update(me, patch);
      expect(reply).toEqual({ type: 'metadata_updated', peer_id: 'me', metadata: merged });
      expect(await storedMetadata(watch)).toEqual(merged);
    });
  }

  it('sends peer_updated to presence subscribers, not to the sender', async () => {
    const { me, watch } = await setup({ tags: ['a'] });
    await update(me, { properties: { load: 0.5 } });
    expect(await expectMessage(watch, 'peer_updated')).toEqual({
      type: 'peer_updated',
      peer_id: 'me',
      role: 'worker',
      metadata: { tags: ['a'], properties: { load: 0.5 } },
    });
    await expectNothing(me, watch);
  });

  it('is visible to filters at once', async () => {
    const { me, watch } = await setup({ properties: { status: 'busy' } });
    expect(await discoverIds(watch, { properties: { status: 'idle' } })).toEqual([]);
    await update(me, { properties: { status: 'idle' }, tags: ['ready'] });
    expect(await discoverIds(watch, { properties: { status: 'idle' } })).toEqual(['me']);
    expect(await discoverIds(watch, { tags: ['ready'] })).toEqual(['me']);
  });

  it('applies successive updates on top of each other', async () => {
    const { me, watch } = await setup({});
    await update(me, { properties: { a: 1 } });
    await update(me, { properties: { b: 2 } });
    const last = await update(me, { properties: { a: null }, tags: ['t'] });
    expect(last.metadata).toEqual({ properties: { b: 2 }, tags: ['t'] });
    expect(await storedMetadata(watch)).toEqual({ properties: { b: 2 }, tags: ['t'] });
  });

  it('refuses a merged result over 16 KiB with INVALID_MESSAGE and changes nothing', async () => {
    const { me, watch } = await setup({ properties: { a: chars(10 * 1024) } });
    // Each half fits; together they do not.
    await expectError(me, { type: 'update_metadata', metadata: { properties: { b: chars(7 * 1024) } } }, 'INVALID_MESSAGE', 'update_metadata');
    expect(await storedMetadata(watch)).toEqual({ properties: { a: chars(10 * 1024) } });
    await expectNothing(watch);
    // Replacing the large value instead fits.
    const ok = await update(me, { properties: { a: null, b: chars(7 * 1024) } });
    expect(ok.metadata).toEqual({ properties: { b: chars(7 * 1024) } });
  });

  it('refuses a malformed patch with INVALID_MESSAGE', async () => {
    const { me, watch } = await setup({ tags: ['a'] });
    await expectError(me, { type: 'update_metadata' }, 'INVALID_MESSAGE');
    await expectError(me, { type: 'update_metadata', metadata: null }, 'INVALID_MESSAGE');
    await expectError(me, { type: 'update_metadata', metadata: [1] }, 'INVALID_MESSAGE');
    await expectError(me, { type: 'update_metadata', metadata: { tags: 'x' } }, 'INVALID_MESSAGE');
    await expectError(me, { type: 'update_metadata', metadata: { tags: Array.from({ length: 65 }, (_, i) => `${i}`) } }, 'INVALID_MESSAGE');
    await expectError(me, { type: 'update_metadata', metadata: { properties: 'x' } }, 'INVALID_MESSAGE');
    expect(await storedMetadata(watch)).toEqual({ tags: ['a'] });
    await expectNothing(watch);
  });

  it('is refused before register', async () => {
    const server = await startServer();
    const client = await open(server);
    await expectError(client, { type: 'update_metadata', metadata: {} }, 'NOT_REGISTERED');
  });
});

describe('a metadata key named __proto__ is plain data', () => {
  // Sent as raw JSON: in a JS object literal "__proto__" would set the prototype instead.
  const withProto = (message: Record<string, unknown>, proto: string) =>
    JSON.stringify(message).replace('"x":1', `"__proto__":${proto},"x":1`);

  it('at register: kept as a key, and no source of inherited tags', async () => {
    const server = await startServer();
    const room = freshRoom();
    const me = await open(server);
    me.sendRaw(withProto({ type: 'register', room_id: room, peer_id: 'me', metadata: { x: 1 } }, '{"tags":["gpu"]}'));
    await expectMessage(me, 'registered');
    const other = await peer(server, { room_id: room, peer_id: 'other' });
    const stored = (other.registered.peer_metadata as Record<string, Record<string, unknown>>).me!;
    expect(Object.keys(stored).sort()).toEqual(['__proto__', 'x']);
    // Discovery lists no tags for "me", so a tag filter must not find it.
    expect(await discoverIds(other.client, { tags: ['gpu'] })).toEqual([]);
  });

  it('at update_metadata: kept as a key', async () => {
    const { me } = await setup({});
    me.sendRaw(withProto({ type: 'update_metadata', metadata: { x: 1 } }, '3'));
    const reply = await expectMessage(me, (m) => m.type === 'metadata_updated' || m.type === 'error');
    expect(reply.type).toBe('metadata_updated');
    expect(Object.keys(reply.metadata as object).sort()).toEqual(['__proto__', 'x']);
  });
});

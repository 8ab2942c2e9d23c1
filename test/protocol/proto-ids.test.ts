import { describe, expect, it } from 'vitest';
import { freshRoom, registeredPeer, startServer } from '../helpers/harness.js';

describe('peer ids that are JavaScript property names', () => {
  it('a peer named __proto__ is listed in peer_metadata like any other', async () => {
    const server = await startServer();
    const room = freshRoom();
    await registeredPeer(server, { room_id: room, peer_id: '__proto__', metadata: { tags: ['gpu'] } });
    await registeredPeer(server, { room_id: room, peer_id: 'constructor', metadata: { properties: { n: 1 } } });
    const { registered } = await registeredPeer(server, { room_id: room, peer_id: 'third' });
    expect(registered.peer_list).toEqual(['__proto__', 'constructor']);
    const metadata = registered.peer_metadata as Record<string, unknown>;
    expect(Object.keys(metadata)).toEqual(['__proto__', 'constructor']);
    expect(Object.getOwnPropertyDescriptor(metadata, '__proto__')?.value).toEqual({ tags: ['gpu'] });
    expect(metadata.constructor).toEqual({ properties: { n: 1 } });
  });
});

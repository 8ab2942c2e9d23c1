import { expect, it } from 'vitest';
import type { SignalingServer } from '../../src/server/signaling-server.js';
import {
  createKey,
  createRoom,
  dial,
  expectAlive,
  expectClosed,
  expectIntact,
  expectRegisterError,
  expectRegistered,
  forEachBackend,
  freshRoom,
  http,
  ids,
  legit,
  OPERATOR,
  portOf,
  sleep,
  useJwks,
} from './support.js';

/**
 * Issue 12, finding 1: with `--auth jwt --rooms token`, a valid user outside a room must not be
 * able to delete it, kick its peers, or take its id over (now or after it expires) while API keys
 * of workers are bound to it. Only the operator token or the room's creator may.
 */

const jwks = useJwks();

const config = () => ({ auth: 'jwt' as const, jwt: jwks.config(), rooms: 'token' as const, operatorToken: OPERATOR });

async function post(server: SignalingServer, path: string, body: Record<string, unknown>, bearer: string) {
  return http(portOf(server), 'POST', path, { body, bearer });
}

forEachBackend((make) => {
  it("Mallory's attack on a live room: deleting it, kicking its worker and re-creating its id are refused; room and token stay valid", async () => {
    const [s0, s1] = await make(config());
    const room = freshRoom('lab-7');
    const { token } = await createRoom(s0!, { room_id: room }, OPERATOR);
    const { key } = await createKey(s0!, { room_id: room, name: 'gpu-node' });
    const worker = await legit(s1!, { api_key: key, peer_id: 'worker', role: 'worker' });
    const alice = await legit(s0!, { room_id: room, peer_id: 'alice', jwt: await jwks.token('alice'), token });

    const mallory = await jwks.token('mallory');
    for (const s of [s0!, s1!]) {
      const byRoom = await post(s, '/delete-peers-and-room', { room_id: room }, mallory);
      expect(byRoom.status, byRoom.text).toBe(403);
      expect(byRoom.body.error).toEqual(expect.stringMatching(/operator token or .*creat/));
      const byPeer = await post(s, '/delete-peers-and-room', { peer_id: 'worker' }, mallory);
      expect(byPeer.status, byPeer.text).toBe(403);
      const kick = await post(s, '/delete-peer', { peer_id: 'worker' }, mallory);
      expect(kick.status, kick.text).toBe(403);
      const recreate = await post(s, '/create-room', { room_id: room }, mallory);
      expect(recreate.status, recreate.text).toBe(409);
      expect(recreate.body).not.toHaveProperty('token');
    }

    // Nothing changed: the worker is still there, and the room token still lets people in.
    await expectIntact(alice.client, { client: worker.client, peerId: 'worker' }, ['worker']);
    expect(worker.client.closeCode).toBeNull();
    const bob = await legit(s1!, { room_id: room, peer_id: 'bob', jwt: await jwks.token('bob'), token });
    expect((bob.registered.peer_list as string[]).sort()).toEqual(['alice', 'worker']);
    // A worker with the key can still (re)join the operator's room.
    const second = await legit(s0!, { api_key: key, peer_id: 'worker-2', role: 'worker' });
    expect((second.registered.peer_list as string[]).sort()).toEqual(['alice', 'bob', 'worker']);
  });

  it("Mallory's attack on an expired room: its id stays reserved while a live API key is bound to it; the operator may re-create it", async () => {
    const [s0, s1] = await make(config());
    const room = freshRoom('lab-7');
    await createRoom(s0!, { room_id: room, expires_in: 1 }, OPERATOR);
    const { key } = await createKey(s0!, { room_id: room, name: 'gpu-node' });
    await sleep(1200);
    const worker = await dial(s1!);
    await expectRegisterError(worker, { api_key: key, peer_id: 'worker' }, 'ROOM_NOT_FOUND');

    const mallory = await jwks.token('mallory');
    for (const s of [s0!, s1!]) {
      const taken = await post(s, '/create-room', { room_id: room }, mallory);
      expect(taken.status, taken.text).toBe(409);
      expect(taken.body.error).toEqual(expect.stringMatching(/API key/));
      expect(taken.body).not.toHaveProperty('token');
    }
    // The worker was not handed to Mallory: the id still does not exist.
    await expectRegisterError(worker, { api_key: key, peer_id: 'worker' }, 'ROOM_NOT_FOUND');

    const again = await createRoom(s1!, { room_id: room }, OPERATOR);
    await expectRegistered(worker, { api_key: key, peer_id: 'worker' });
    await legit(s0!, { room_id: room, peer_id: 'alice', jwt: await jwks.token('alice'), token: again.token });
  });

  it('once the bound keys are revoked (or expired), an expired room id is free for anyone again', async () => {
    const [s0] = await make(config());
    const room = freshRoom('lab-7');
    await createRoom(s0!, { room_id: room, expires_in: 1 }, OPERATOR);
    const revoked = await createKey(s0!, { room_id: room, name: 'gpu-node' });
    await createKey(s0!, { room_id: room, name: 'old-node', expires_in: 1 });
    // A key bound to another room reserves nothing here.
    await createKey(s0!, { room_id: freshRoom('other'), name: 'other-node' });
    expect((await http(portOf(s0!), 'POST', '/admin/keys/revoke', { body: { id: revoked.id }, bearer: OPERATOR })).status).toBe(200);
    await sleep(1200);
    const created = await post(s0!, '/create-room', { room_id: room }, await jwks.token('mallory'));
    expect(created.status, created.text).toBe(200);
  });

  it("the room's creator may kick its peers, delete it, and re-create it (also after it expired) while keys are bound to it", async () => {
    const [s0, s1] = await make(config());
    const alice = await jwks.token('alice');
    const mallory = await jwks.token('mallory');
    const room = freshRoom('lab-7');
    const { token } = await createRoom(s0!, { room_id: room }, alice);
    const { key } = await createKey(s1!, { room_id: room, name: 'gpu-node' });
    const worker = await legit(s1!, { api_key: key, peer_id: 'worker' });
    const other = await legit(s0!, { room_id: room, peer_id: 'other', jwt: await jwks.token('carol'), token });
    const observer = await legit(s1!, { room_id: room, peer_id: 'observer', jwt: alice, token });

    // Mallory may not, even by naming a peer.
    expect((await post(s0!, '/delete-peer', { peer_id: 'other' }, mallory)).status).toBe(403);
    // Alice, who created the room, may kick a peer of it...
    const kicked = await post(s1!, '/delete-peer', { peer_id: 'other' }, alice);
    expect(kicked.status, kicked.text).toBe(200);
    await expectClosed(other.client, 1000);
    expect(await ids(observer.client)).toEqual(['worker']);
    // ...and delete the room, which removes everyone and voids the token.
    const deleted = await post(s0!, '/delete-peers-and-room', { room_id: room }, alice);
    expect(deleted.status, deleted.text).toBe(200);
    expect((deleted.body.deleted_peers as string[]).sort()).toEqual(['observer', 'worker']);
    await expectClosed(worker.client, 1000);

    // Deleted, its id stays reserved for the worker's key: Mallory cannot take it, Alice can.
    const stolen = await post(s1!, '/create-room', { room_id: room }, mallory);
    expect(stolen.status, stolen.text).toBe(409);
    const recreated = await post(s1!, '/create-room', { room_id: room, expires_in: 1 }, alice);
    expect(recreated.status, recreated.text).toBe(200);
    await legit(s0!, { api_key: key, peer_id: 'worker' });

    // Expired: the same.
    await sleep(1200);
    expect((await post(s0!, '/create-room', { room_id: room }, mallory)).status).toBe(409);
    const renewed = await post(s0!, '/create-room', { room_id: room }, alice);
    expect(renewed.status, renewed.text).toBe(200);
  });

  it('the operator token may kick, delete and re-create any room; a user-created room reserved by keys is the operator\'s to give back', async () => {
    const [s0, s1] = await make(config());
    const alice = await jwks.token('alice');
    const room = freshRoom('lab-7');
    const { token } = await createRoom(s0!, { room_id: room }, alice);
    const { key } = await createKey(s0!, { room_id: room, name: 'gpu-node' });
    const worker = await legit(s1!, { api_key: key, peer_id: 'worker' });
    const peer = await legit(s0!, { room_id: room, peer_id: 'peer', jwt: alice, token });

    const kicked = await post(s1!, '/delete-peer', { peer_id: 'peer' }, OPERATOR);
    expect(kicked.status, kicked.text).toBe(200);
    await expectClosed(peer.client, 1000);
    const deleted = await post(s1!, '/delete-peers-and-room', { peer_id: 'worker' }, OPERATOR);
    expect(deleted.status, deleted.text).toBe(200);
    expect(deleted.body).toEqual({ room_id: room, deleted_peers: ['worker'] });
    await expectClosed(worker.client, 1000);

    expect((await post(s0!, '/create-room', { room_id: room }, await jwks.token('mallory'))).status).toBe(409);
    const byOperator = await post(s0!, '/create-room', { room_id: room }, OPERATOR);
    expect(byOperator.status, byOperator.text).toBe(200);
    const back = await legit(s1!, { api_key: key, peer_id: 'worker' });
    await expectAlive(back.client);
  });
});

import { expect, it } from 'vitest';
import {
  claims,
  createKey,
  dial,
  expectClosed,
  expectIntact,
  expectRegisterError,
  expectRegistered,
  forEachBackend,
  freshRoom,
  ids,
  legit,
  OPERATOR,
  sign,
  sleep,
  useJwks,
  WAIT,
} from './support.js';

/**
 * Peer-id ownership with authentication on: a peer id belongs to the subject that registered
 * it (for the ownership TTL after its last registration), so another subject cannot take it,
 * not even while nobody holds it; the owner itself may take it over from a newer connection,
 * which closes the older one with 4002. Run on both state backends, across two instances.
 */

const jwks = useJwks();

forEachBackend((make) => {
  const jwtConfig = () => ({ auth: 'jwt' as const, jwt: jwks.config(), operatorToken: OPERATOR });

  it('after subject A leaves, subject B registering A\'s peer id is PEER_ID_TAKEN (nobody holds it) and changes nothing', async () => {
    const [s0, s1] = await make(jwtConfig());
    const room = freshRoom();
    const observer = await legit(s0!, { room_id: room, peer_id: 'observer', jwt: await jwks.token('carol') });
    const a = await legit(s0!, { room_id: room, peer_id: 'X', jwt: await jwks.token('alice') });
    const left = await a.client.request({ type: 'leave' }, 'left', WAIT);
    expect(left).toMatchObject({ type: 'left', peer_id: 'X', room_id: room });
    expect(await ids(observer.client)).toEqual([]);

    const b = await dial(s1!);
    const bob = await jwks.token('bob');
    await expectRegisterError(b, { room_id: room, peer_id: 'X', jwt: bob }, 'PEER_ID_TAKEN');
    await expectRegisterError(b, { room_id: room, peer_id: 'X', jwt: bob, session_token: a.registered.session_token }, 'PEER_ID_TAKEN');
    await expectRegisterError(b, { room_id: freshRoom('elsewhere'), peer_id: 'X', jwt: bob }, 'PEER_ID_TAKEN');
    const viaUpgrade = await dial(s0!, { bearer: bob });
    await expectRegisterError(viaUpgrade, { room_id: room, peer_id: 'X' }, 'PEER_ID_TAKEN');
    expect(await ids(observer.client)).toEqual([]);

    // The owner gets it back, from another connection and instance.
    const again = await legit(s1!, { room_id: room, peer_id: 'X', jwt: await jwks.token('alice') });
    await expectIntact(observer.client, { client: again.client, peerId: 'X' }, ['X']);
  });

  it('also after the owner\'s socket closed without a leave', async () => {
    const [s0, s1] = await make(jwtConfig());
    const room = freshRoom();
    const observer = await legit(s1!, { room_id: room, peer_id: 'observer', jwt: await jwks.token('carol') });
    const a = await legit(s0!, { room_id: room, peer_id: 'X', jwt: await jwks.token('alice') });
    await a.client.close();
    const deadline = Date.now() + WAIT;
    while ((await ids(observer.client)).length > 0 && Date.now() < deadline) await sleep(20);
    expect(await ids(observer.client)).toEqual([]);

    const b = await dial(s1!);
    await expectRegisterError(b, { room_id: room, peer_id: 'X', jwt: await jwks.token('bob') }, 'PEER_ID_TAKEN');
    expect(await ids(observer.client)).toEqual([]);
    await legit(s0!, { room_id: room, peer_id: 'X' }, { query: await jwks.token('alice') });
    expect(await ids(observer.client)).toEqual(['X']);
  });

  it('the same subject on a new connection takes its peer id over while the old one is open: the old one is closed 4002', async () => {
    const [s0, s1] = await make(jwtConfig());
    const room = freshRoom();
    const observer = await legit(s0!, { room_id: room, peer_id: 'observer', jwt: await jwks.token('carol') });
    const old = await legit(s0!, { room_id: room, peer_id: 'X', jwt: await jwks.token('alice') });

    // No session_token: the authenticated subject is the proof. Presented on the upgrade this time.
    const fresh = await legit(s1!, { room_id: room, peer_id: 'X' }, { bearer: await sign(jwks.ec, claims('alice')) });
    // Proved by the subject, not by the token: a new session_token (shared state keeps only the hash
    // of the current one, so the old one cannot be handed on; docs/protocol.md, decision 1).
    expect(fresh.registered.session_token).not.toBe(old.registered.session_token);
    await expectClosed(old.client, 4002);
    await expectIntact(observer.client, { client: fresh.client, peerId: 'X' }, ['X']);
  });

  it('another subject cannot take over a held peer id, with or without a guessed session_token', async () => {
    const [s0, s1] = await make(jwtConfig());
    const room = freshRoom();
    const observer = await legit(s1!, { room_id: room, peer_id: 'observer', jwt: await jwks.token('carol') });
    const victim = await legit(s0!, { room_id: room, peer_id: 'X', jwt: await jwks.token('alice') });
    const b = await dial(s1!);
    const bob = await jwks.token('bob');
    await expectRegisterError(b, { room_id: room, peer_id: 'X', jwt: bob }, 'PEER_ID_TAKEN');
    await expectRegisterError(b, { room_id: room, peer_id: 'X', jwt: bob, session_token: 'guess' }, 'PEER_ID_TAKEN');
    await expectRegisterError(b, { room_id: room, peer_id: 'X', jwt: bob, is_admin: true, role: 'worker' }, 'PEER_ID_TAKEN');
    await expectIntact(observer.client, { client: victim.client, peerId: 'X' }, ['X']);
    expect(victim.client.closeCode).toBeNull();
  });

  it('API-key subjects: another key of the same room cannot take the id; the owning key can', async () => {
    const [s0, s1] = await make(jwtConfig());
    const room = freshRoom();
    const k1 = await createKey(s0!, { room_id: room, name: 'one' });
    const k2 = await createKey(s0!, { room_id: room, name: 'two' });
    const observer = await legit(s1!, { room_id: room, peer_id: 'observer', jwt: await jwks.token('carol') });
    const a = await legit(s0!, { api_key: k1.key, peer_id: 'worker-1' });
    await a.client.request({ type: 'leave' }, 'left', WAIT);

    const other = await dial(s1!);
    await expectRegisterError(other, { api_key: k2.key, peer_id: 'worker-1' }, 'PEER_ID_TAKEN');
    // A JWT subject is another subject too.
    await expectRegisterError(other, { room_id: room, peer_id: 'worker-1', jwt: await jwks.token('worker-1') }, 'PEER_ID_TAKEN');
    expect(await ids(observer.client)).toEqual([]);

    const held = await legit(s1!, { api_key: k1.key, peer_id: 'worker-1' });
    const takeover = await legit(s0!, { room_id: room, peer_id: 'worker-1' }, { bearer: k1.key });
    await expectClosed(held.client, 4002);
    await expectIntact(observer.client, { client: takeover.client, peerId: 'worker-1' }, ['worker-1']);
  });

  it('ownership lapses after ownershipTtlMs: then another subject may use the id', async () => {
    const ttl = 1200;
    const [s0, s1] = await make({ ...jwtConfig(), ownershipTtlMs: ttl });
    const room = freshRoom();
    const a = await legit(s0!, { room_id: room, peer_id: 'X', jwt: await jwks.token('alice') });
    const registeredAt = Date.now();
    await a.client.request({ type: 'leave' }, 'left', WAIT);
    const b = await dial(s1!);
    await expectRegisterError(b, { room_id: room, peer_id: 'X', jwt: await jwks.token('bob') }, 'PEER_ID_TAKEN');
    expect(Date.now() - registeredAt, 'the refusal must come within the TTL').toBeLessThan(ttl);
    await sleep(registeredAt + ttl + 200 - Date.now());
    await expectRegistered(b, { room_id: room, peer_id: 'X', jwt: await jwks.token('bob') });
    // Now bob owns it.
    const back = await dial(s0!);
    await expectRegisterError(back, { room_id: room, peer_id: 'X', jwt: await jwks.token('alice') }, 'PEER_ID_TAKEN');
  });
});

import { expect, it } from 'vitest';
import {
  claims,
  createRoom,
  dial,
  expectIntact,
  expectRegisterError,
  expectRegistered,
  forEachBackend,
  freshRoom,
  http,
  ids,
  legit,
  now,
  OPERATOR,
  portOf,
  sign,
  signingKey,
  sleep,
  useJwks,
} from './support.js';

/**
 * Rooms that must be created first (`rooms: 'token'`): POST /create-room hands out the room
 * token, and only that token lets a peer in. Run on both state backends, with two instances
 * sharing state: rooms are created on one and joined on the other.
 */

const jwks = useJwks();

forEachBackend((make) => {
  it('POST /create-room is open with authentication off and no operator token; returns {room_id, token, expires_at}', async () => {
    const [s0] = await make({ rooms: 'token' });
    const generated = await createRoom(s0!, {});
    expect(generated).toEqual({ room_id: expect.any(String), token: expect.any(String), expires_at: expect.any(Number) });
    expect(generated.room_id.length).toBeGreaterThan(0);
    expect(generated.token.length).toBeGreaterThanOrEqual(16);
    expect(Math.abs(generated.expires_at - (now() + 24 * 3600))).toBeLessThanOrEqual(5);

    const room = freshRoom();
    const named = await createRoom(s0!, { room_id: room, expires_in: 60 });
    expect(named.room_id).toBe(room);
    expect(Math.abs(named.expires_at - (now() + 60))).toBeLessThanOrEqual(5);
    expect(named.token).not.toBe(generated.token);
  });

  it('the room token lets peers in on any instance, and is echoed in registered', async () => {
    const [s0, s1] = await make({ rooms: 'token' });
    const { room_id: room, token } = await createRoom(s0!, { room_id: freshRoom() });
    const a = await legit(s0!, { room_id: room, peer_id: 'a', token });
    expect(a.registered.token).toBe(token);
    const b = await legit(s1!, { room_id: room, peer_id: 'b', token });
    expect(b.registered.peer_list).toEqual(['a']);
    expect(await ids(a.client)).toEqual(['b']);
  });

  it('a wrong token, no token, or the token of another room is AUTH_FAILED and changes nothing', async () => {
    const [s0, s1] = await make({ rooms: 'token' });
    const { room_id: room, token } = await createRoom(s0!, { room_id: freshRoom() });
    const other = await createRoom(s0!, { room_id: freshRoom() });
    const victim = await legit(s0!, { room_id: room, peer_id: 'victim', token });
    const observer = await legit(s1!, { room_id: room, peer_id: 'observer', token });

    const attacker = await dial(s1!);
    const attempts: Array<Record<string, unknown>> = [
      { token: `${token}x` },
      { token: token.slice(0, -1) },
      { token: 'guess' },
      {},
      { token: null },
      { token: other.token },
      { token: other.token, peer_id: 'victim' },
      { token: 'guess', peer_id: 'victim', session_token: 'guess' },
    ];
    for (const attempt of attempts) {
      await expectRegisterError(attacker, { room_id: room, peer_id: 'intruder', ...attempt }, 'AUTH_FAILED');
    }
    await expectIntact(observer.client, { client: victim.client, peerId: 'victim' }, ['victim']);
    expect(victim.client.closeCode).toBeNull();
    // The other room was not joined either.
    const otherPeer = await legit(s0!, { room_id: other.room_id, peer_id: 'other-peer', token: other.token });
    expect(otherPeer.registered.peer_list).toEqual([]);
  });

  it('an unknown room is ROOM_NOT_FOUND, whatever token is given', async () => {
    const [s0, s1] = await make({ rooms: 'token' });
    const existing = await createRoom(s0!, { room_id: freshRoom() });
    const unknown = freshRoom('never-created');
    const client = await dial(s1!);
    await expectRegisterError(client, { room_id: unknown, token: 'anything' }, 'ROOM_NOT_FOUND');
    await expectRegisterError(client, { room_id: unknown, token: existing.token }, 'ROOM_NOT_FOUND');
    await expectRegisterError(client, { room_id: unknown, peer_id: 'ghost' }, 'ROOM_NOT_FOUND');
    // Nothing was created on the way: the room id is still free, and empty once created.
    const created = await createRoom(s0!, { room_id: unknown });
    const first = await legit(s0!, { room_id: unknown, peer_id: 'first', token: created.token });
    expect(first.registered.peer_list).toEqual([]);
  });

  it('an expired room is ROOM_NOT_FOUND; its id can be created again, and the old token is then useless', async () => {
    const [s0, s1] = await make({ rooms: 'token' });
    const room = freshRoom();
    const { token } = await createRoom(s0!, { room_id: room, expires_in: 1 });
    const early = await dial(s1!);
    await expectRegistered(early, { room_id: room, peer_id: 'early', token });
    await sleep(1200);
    const late = await dial(s1!);
    await expectRegisterError(late, { room_id: room, peer_id: 'late', token }, 'ROOM_NOT_FOUND');

    const again = await createRoom(s1!, { room_id: room });
    expect(again.token).not.toBe(token);
    await expectRegisterError(late, { room_id: room, peer_id: 'late', token }, 'AUTH_FAILED');
    await expectRegistered(late, { room_id: room, peer_id: 'late', token: again.token });
  });

  it('creating an existing room_id is 409 and leaves the first token in force', async () => {
    const [s0, s1] = await make({ rooms: 'token' });
    const room = freshRoom();
    const first = await createRoom(s0!, { room_id: room });
    for (const s of [s0!, s1!]) {
      const dup = await http(portOf(s), 'POST', '/create-room', { body: { room_id: room } });
      expect(dup.status, dup.text).toBe(409);
      expect(dup.body).not.toHaveProperty('token');
    }
    await legit(s1!, { room_id: room, peer_id: 'a', token: first.token });
  });

  it('bad room_id or expires_in is 400 and creates nothing', async () => {
    const [s0] = await make({ rooms: 'token' });
    const room = freshRoom();
    for (const body of [
      { room_id: room, expires_in: 0 },
      { room_id: room, expires_in: -5 },
      { room_id: room, expires_in: '60' },
      { room_id: room, expires_in: 31 * 86_400 },
      { room_id: 5 },
      { room_id: '' },
      { room_id: 'x'.repeat(129) },
    ]) {
      const res = await http(portOf(s0!), 'POST', '/create-room', { body });
      expect(res.status, `${JSON.stringify(body)}: ${res.text}`).toBe(400);
    }
    await createRoom(s0!, { room_id: room });
  });

  it('with an operator token configured: none or a wrong one is 401 and creates nothing; the right one works', async () => {
    const [s0] = await make({ rooms: 'token', operatorToken: OPERATOR });
    const room = freshRoom();
    for (const bearer of [undefined, 'wrong', `${OPERATOR}x`, OPERATOR.slice(1)]) {
      const res = await http(portOf(s0!), 'POST', '/create-room', { body: { room_id: room }, ...(bearer ? { bearer } : {}) });
      expect(res.status, res.text).toBe(401);
      expect(res.body).not.toHaveProperty('token');
    }
    const created = await createRoom(s0!, { room_id: room }, OPERATOR);
    expect(created.room_id).toBe(room);
  });

  it('with JWT authentication: a valid JWT or the operator token may create rooms; no, forged or expired JWTs may not', async () => {
    const [s0, s1] = await make({ rooms: 'token', auth: 'jwt', jwt: jwks.config(), operatorToken: OPERATOR });
    const room = freshRoom();
    const refused = [
      undefined,
      await sign(await signingKey('RS256', jwks.rsa.kid), claims('mallory')),
      await jwks.token('mallory', { exp: now() - 600 }),
      await jwks.token('mallory', { aud: 'another-app' }),
      'not-a-jwt',
    ];
    for (const bearer of refused) {
      const res = await http(portOf(s0!), 'POST', '/create-room', { body: { room_id: room }, ...(bearer ? { bearer } : {}) });
      expect(res.status, res.text).toBe(401);
    }
    const created = await createRoom(s0!, { room_id: room }, await jwks.token('alice'));
    await createRoom(s1!, { room_id: freshRoom() }, OPERATOR);

    // Joining needs both: a valid JWT and the room token.
    const client = await dial(s1!);
    await expectRegisterError(client, { room_id: room, token: created.token }, 'AUTH_FAILED');
    await expectRegisterError(client, { room_id: room, jwt: await jwks.token('bob'), token: 'wrong' }, 'AUTH_FAILED');
    await expectRegisterError(client, { room_id: room, jwt: await jwks.token('bob') }, 'AUTH_FAILED');
    await expectRegistered(client, { room_id: room, peer_id: 'bob', jwt: await jwks.token('bob'), token: created.token });
  });
});

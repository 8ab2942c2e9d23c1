import { expect, it } from 'vitest';
import {
  createKey,
  dial,
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
  sha256hex,
  sleep,
  useJwks,
} from './support.js';

/**
 * API keys (`slp_<id>_<secret>`), managed over POST/GET /admin/keys and POST /admin/keys/revoke
 * with the operator token, each bound to one room. Run on both state backends, with two
 * instances sharing state: keys are made on one instance and used on the other.
 */

const jwks = useJwks();

const KEYS = { auth: 'keys', operatorToken: OPERATOR } as const;

forEachBackend((make) => {
  it('managing keys needs the operator token: none, a wrong one, an API key or a JWT is 401 and creates nothing', async () => {
    const [s0] = await make({ auth: 'jwt', jwt: jwks.config(), operatorToken: OPERATOR });
    const room = freshRoom();
    const existing = await createKey(s0!, { room_id: room, name: 'existing' });
    const port = portOf(s0!);
    for (const bearer of [undefined, 'wrong', OPERATOR.slice(0, -1), existing.key, await jwks.token('alice')]) {
      const auth = bearer !== undefined ? { bearer } : {};
      const created = await http(port, 'POST', '/admin/keys', { body: { room_id: room, name: 'sneaky' }, ...auth });
      expect(created.status, created.text).toBe(401);
      expect(created.text).not.toContain('slp_');
      const listed = await http(port, 'GET', '/admin/keys', auth);
      expect(listed.status).toBe(401);
      expect(listed.text).not.toContain(existing.id);
      const revoked = await http(port, 'POST', '/admin/keys/revoke', { body: { id: existing.id }, ...auth });
      expect(revoked.status).toBe(401);
    }
    const list = await http(port, 'GET', '/admin/keys', { bearer: OPERATOR });
    expect(list.status).toBe(200);
    expect((list.body.keys as Array<{ name: string; revoked_at: unknown }>).map((k) => [k.name, k.revoked_at])).toEqual([['existing', null]]);
    // The key still works: the refused revokes did nothing.
    await legit(s0!, { api_key: existing.key });
  });

  it('POST /admin/keys returns the key once; GET /admin/keys never shows the key, its secret or its hash', async () => {
    const [s0, s1] = await make(KEYS);
    const room = freshRoom();
    const created = await createKey(s0!, { room_id: room, name: 'worker key' });
    expect(created).toEqual({
      id: expect.stringMatching(/^[0-9a-f]{12}$/),
      key: expect.any(String),
      room_id: room,
      name: 'worker key',
      created_at: expect.any(Number),
      expires_at: null,
      revoked_at: null,
    });
    expect(created.key.startsWith(`slp_${created.id}_`)).toBe(true);
    const secret = created.key.slice(`slp_${created.id}_`.length);
    expect(secret.length).toBeGreaterThanOrEqual(16);

    for (const s of [s0!, s1!]) {
      const list = await http(portOf(s), 'GET', '/admin/keys', { bearer: OPERATOR });
      expect(list.status).toBe(200);
      const keys = list.body.keys as Array<Record<string, unknown>>;
      expect(keys).toEqual([{ id: created.id, room_id: room, name: 'worker key', created_at: created.created_at, expires_at: null, revoked_at: null }]);
      expect(list.text).not.toContain(created.key);
      expect(list.text).not.toContain(secret);
      expect(list.text).not.toContain(sha256hex(secret));
      expect(list.text).not.toContain(sha256hex(created.key));
      expect(list.text).not.toMatch(/hash/i);
    }
  });

  it('bad key requests are 400 and create nothing', async () => {
    const [s0] = await make(KEYS);
    for (const body of [{ name: 'n' }, { room_id: 'r' }, { room_id: '', name: 'n' }, { room_id: 'r', name: 'n', expires_in: 0 }, { room_id: 'r', name: 'n', expires_in: 'soon' }]) {
      const res = await http(portOf(s0!), 'POST', '/admin/keys', { body, bearer: OPERATOR });
      expect(res.status, `${JSON.stringify(body)}: ${res.text}`).toBe(400);
      expect(res.text).not.toContain('slp_');
    }
    const list = await http(portOf(s0!), 'GET', '/admin/keys', { bearer: OPERATOR });
    expect(list.body.keys).toEqual([]);
  });

  it('register with api_key and no room_id joins the key\'s room (on any instance)', async () => {
    const [s0, s1] = await make(KEYS);
    const room = freshRoom();
    const k1 = await createKey(s0!, { room_id: room, name: 'one' });
    const k2 = await createKey(s0!, { room_id: room, name: 'two' });
    const a = await legit(s1!, { api_key: k1.key, peer_id: 'a' });
    expect(a.registered.room_id).toBe(room);
    const b = await legit(s0!, { api_key: k2.key, room_id: room, peer_id: 'b' });
    expect(b.registered).toMatchObject({ room_id: room, peer_list: ['a'] });
    expect(await ids(a.client)).toEqual(['b']);
  });

  it('an api_key with another room_id is AUTH_FAILED and changes nothing in either room', async () => {
    const [s0, s1] = await make(KEYS);
    const room = freshRoom();
    const target = freshRoom('target');
    const key = await createKey(s0!, { room_id: room, name: 'bound' });
    const targetKey = await createKey(s0!, { room_id: target, name: 'target' });
    const victim = await legit(s0!, { api_key: targetKey.key, peer_id: 'victim' });
    const observer = await legit(s1!, { api_key: targetKey.key, peer_id: 'observer' });

    const attacker = await dial(s1!);
    await expectRegisterError(attacker, { api_key: key.key, room_id: target, peer_id: 'intruder' }, 'AUTH_FAILED');
    await expectRegisterError(attacker, { api_key: key.key, room_id: target, peer_id: 'victim' }, 'AUTH_FAILED');
    await expectIntact(observer.client, { client: victim.client, peerId: 'victim' }, ['victim']);
    // Its own room is still fine, and empty.
    expect((await expectRegistered(attacker, { api_key: key.key, peer_id: 'own' })).peer_list).toEqual([]);
  });

  it('a revoked key is AUTH_FAILED (register and upgrade); revoking shows in the list; unknown ids are 404', async () => {
    const [s0, s1] = await make(KEYS);
    const room = freshRoom();
    const key = await createKey(s0!, { room_id: room, name: 'soon revoked' });
    const keep = await createKey(s0!, { room_id: room, name: 'kept' });
    const observer = await legit(s1!, { api_key: keep.key, peer_id: 'observer' });
    await legit(s1!, { api_key: key.key, peer_id: 'before' });

    const revoke = await http(portOf(s0!), 'POST', '/admin/keys/revoke', { body: { id: key.id }, bearer: OPERATOR });
    expect(revoke.status, revoke.text).toBe(200);
    const missing = await http(portOf(s0!), 'POST', '/admin/keys/revoke', { body: { id: 'ffffffffffff' }, bearer: OPERATOR });
    expect(missing.status).toBe(404);

    const client = await dial(s1!);
    await expectRegisterError(client, { api_key: key.key, peer_id: 'after' }, 'AUTH_FAILED');
    await expectRegisterError(client, { api_key: key.key, room_id: room, peer_id: 'after' }, 'AUTH_FAILED');
    const upgraded = await dial(s0!, { bearer: key.key });
    upgraded.send({ type: 'register', room_id: room, peer_id: 'after' });
    await expectClosed(upgraded, 1008);
    expect(await ids(observer.client)).toEqual(['before']);

    const list = await http(portOf(s1!), 'GET', '/admin/keys', { bearer: OPERATOR });
    const byName = Object.fromEntries((list.body.keys as Array<{ name: string; revoked_at: unknown }>).map((k) => [k.name, k.revoked_at]));
    expect(byName).toEqual({ 'soon revoked': expect.any(Number), kept: null });
    // The other key of the room is unaffected.
    await legit(s0!, { api_key: keep.key, peer_id: 'still-ok' });
  });

  it('an expired key is AUTH_FAILED (register and upgrade)', async () => {
    const [s0, s1] = await make(KEYS);
    const room = freshRoom();
    const key = await createKey(s0!, { room_id: room, name: 'short', expires_in: 1 });
    expect(key.expires_at).toEqual(expect.any(Number));
    const early = await legit(s1!, { api_key: key.key, peer_id: 'early' });
    await sleep(1200);
    const client = await dial(s1!);
    await expectRegisterError(client, { api_key: key.key, peer_id: 'late' }, 'AUTH_FAILED');
    const upgraded = await dial(s0!, { query: key.key });
    upgraded.send({ type: 'register', room_id: room, peer_id: 'late' });
    await expectClosed(upgraded, 1008);
    expect(await ids(early.client)).toEqual([]);
  });

  it('malformed, unknown or wrong-secret keys are AUTH_FAILED (register) and 1008 (upgrade)', async () => {
    const [s0, s1] = await make(KEYS);
    const room = freshRoom();
    const key = await createKey(s0!, { room_id: room, name: 'real' });
    const observer = await legit(s0!, { api_key: key.key, peer_id: 'observer' });
    const secret = key.key.slice(`slp_${key.id}_`.length);
    const flipped = secret[0] === 'A' ? `B${secret.slice(1)}` : `A${secret.slice(1)}`;
    const bad = [
      'slp_',
      'slp_nothex_abcdefghijklmnopqrstuvwx',
      `slp_${key.id}`,
      `slp_${key.id}_`,
      `slp_${key.id}_short`,
      `slp_${key.id}_${flipped}`,
      `slp_${key.id.toUpperCase()}_${secret}`,
      `SLP_${key.id}_${secret}`,
      `slp_ffffffffffff_${secret}`,
      `slp_${key.id}_${secret}x`,
      `slp_${key.id}_${secret}_${secret}`,
      ` slp_${key.id}_${secret}`,
    ];
    const attacker = await dial(s1!);
    for (const apiKey of bad) {
      await expectRegisterError(attacker, { api_key: apiKey, room_id: room, peer_id: 'intruder' }, 'AUTH_FAILED');
    }
    for (const bearer of [`slp_${key.id}_${flipped}`, `slp_ffffffffffff_${secret}`, 'slp_garbage']) {
      const upgraded = await dial(s1!, { bearer });
      upgraded.send({ type: 'register', room_id: room, peer_id: 'intruder' });
      await expectClosed(upgraded, 1008);
    }
    expect(await ids(observer.client)).toEqual([]);
  });

  it('an slp_ key on the upgrade (Bearer or ?token=) works, bound to its room', async () => {
    const [s0, s1] = await make(KEYS);
    const room = freshRoom();
    const key = await createKey(s0!, { room_id: room, name: 'upgrade' });
    const viaHeader = await legit(s1!, { room_id: room, peer_id: 'header' }, { bearer: key.key });
    expect(viaHeader.registered.room_id).toBe(room);
    const viaQuery = await legit(s0!, { room_id: room, peer_id: 'query' }, { query: key.key });
    expect(viaQuery.registered.peer_list).toEqual(['header']);

    const elsewhere = await dial(s1!, { bearer: key.key });
    await expectRegisterError(elsewhere, { room_id: freshRoom('elsewhere'), peer_id: 'x' }, 'AUTH_FAILED');
    expect(await ids(viaQuery.client)).toEqual(['header']);
  });

  it('an slp_ key on the upgrade also names the room: register without room_id joins it', async () => {
    const [s0] = await make(KEYS);
    const room = freshRoom();
    const key = await createKey(s0!, { room_id: room, name: 'upgrade-default-room' });
    const client = await dial(s0!, { bearer: key.key });
    const reply = await expectRegistered(client, { peer_id: 'defaulted' });
    expect(reply.room_id).toBe(room);
  });

  it('auth "keys" refuses a JWT, even a valid one (AUTH_FAILED in register, 1008 on the upgrade)', async () => {
    const [s0] = await make(KEYS);
    const room = freshRoom();
    const key = await createKey(s0!, { room_id: room, name: 'k' });
    const observer = await legit(s0!, { api_key: key.key, peer_id: 'observer' });
    const token = await jwks.token('alice');
    const client = await dial(s0!);
    await expectRegisterError(client, { room_id: room, jwt: token }, 'AUTH_FAILED');
    await expectRegisterError(client, { room_id: room, id_token: token }, 'AUTH_FAILED');
    await expectRegisterError(client, { room_id: room }, 'AUTH_FAILED');
    for (const options of [{ bearer: token }, { query: token }]) {
      const upgraded = await dial(s0!, options);
      upgraded.send({ type: 'register', room_id: room, peer_id: 'jwt-user' });
      await expectClosed(upgraded, 1008);
    }
    expect(await ids(observer.client)).toEqual([]);
  });

  it('auth "jwt" accepts API keys as well as JWTs', async () => {
    const [s0, s1] = await make({ auth: 'jwt', jwt: jwks.config(), operatorToken: OPERATOR });
    const room = freshRoom();
    const key = await createKey(s0!, { room_id: room, name: 'k' });
    const a = await legit(s1!, { api_key: key.key, peer_id: 'key-peer' });
    const b = await legit(s0!, { room_id: room, peer_id: 'jwt-peer', jwt: await jwks.token('bob') });
    expect(b.registered.peer_list).toEqual(['key-peer']);
    expect(await ids(a.client)).toEqual(['jwt-peer']);
  });
});

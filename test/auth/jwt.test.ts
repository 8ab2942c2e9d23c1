import { describe, expect, it } from 'vitest';
import { exportJWK, importJWK, SignJWT, UnsecuredJWT } from 'jose';
import { startServer } from '../helpers/harness.js';
import type { SignalingServer } from '../../src/server/signaling-server.js';
import type { SignalClient } from '../../src/client/signal-client.js';
import type { JwtConfig } from '../../src/auth/jwt-verifier.js';
import { freePort } from '../helpers/redis-process.js';
import {
  AUDIENCE,
  claims,
  dial,
  expectAlive,
  expectClosed,
  expectIntact,
  expectRegisterError,
  expectRegistered,
  freshRoom,
  ids,
  legit,
  now,
  rawJwt,
  register,
  sign,
  signingKey,
  sleep,
  useJwks,
  withPayload,
  WAIT,
  type Jwks,
} from './support.js';

/**
 * JWT authentication: what is accepted (RS256, ES256, small clock skew) and every forgery or
 * misuse that must be refused, on each way a JWT can be presented: `jwt` or `id_token` in
 * register (AUTH_FAILED), `Authorization: Bearer` or `?token=` on the upgrade (close 1008).
 * Each refused attempt must also change nothing for the peer it tries to impersonate.
 */

const jwks = useJwks();

/** The victim's subject: every attack claims it, to take over the victim's peer id. */
const VICTIM_SUB = 'victim-sub';

async function jwtServer(extra: Partial<JwtConfig> = {}): Promise<SignalingServer> {
  return startServer({ auth: 'jwt', jwt: jwks.config(extra) });
}

type Path = 'register jwt' | 'register id_token' | 'upgrade Authorization: Bearer' | 'upgrade ?token=';
const PATHS: Path[] = ['register jwt', 'register id_token', 'upgrade Authorization: Bearer', 'upgrade ?token='];

/**
 * Registers peer `peerId` in `room` presenting `token` the way `path` says. Resolves with the
 * `registered` reply, or the `error` reply, or the close code when the upgrade was refused.
 */
async function presentToken(
  server: SignalingServer,
  path: Path,
  token: string,
  fields: Record<string, unknown>,
): Promise<{ kind: 'registered' | 'error' | 'closed'; client: SignalClient; code: unknown; reply?: unknown }> {
  if (path === 'register jwt' || path === 'register id_token') {
    const client = await dial(server);
    const reply = await register(client, { ...fields, [path === 'register jwt' ? 'jwt' : 'id_token']: token });
    return { kind: reply.type === 'registered' ? 'registered' : 'error', client, code: reply.code, reply };
  }
  const client = await dial(server, path === 'upgrade ?token=' ? { query: token } : { bearer: token });
  // The attacker registers at once, with no further credential, hoping the upgrade was enough.
  // A refused upgrade is closed before any frame is served, so the request fails with the close.
  const reply = await register(client, fields).catch(() => null);
  if (reply === null) {
    const closed = await Promise.race([client.closed, sleep(WAIT).then(() => null)]);
    return { kind: 'closed', client, code: closed?.code };
  }
  return { kind: reply.type === 'registered' ? 'registered' : 'error', client, code: reply.code, reply };
}

/** Each token the server must refuse. `keys` gives the published keys of the test JWKS. */
const ATTACKS: Array<[string, (k: Jwks) => Promise<string>]> = [
  ['forged RS256 signature (another RSA key, same kid)', async (k) => sign(await signingKey('RS256', k.rsa.kid), claims(VICTIM_SUB))],
  ['forged ES256 signature (another P-256 key, same kid)', async (k) => sign(await signingKey('ES256', k.ec.kid), claims(VICTIM_SUB))],
  ['tampered payload (sub changed after signing)', async (k) => withPayload(await k.token('someone-else'), claims(VICTIM_SUB))],
  ['wrong issuer', async (k) => k.token(VICTIM_SUB, { iss: 'https://evil.example' })],
  ['wrong audience', async (k) => k.token(VICTIM_SUB, { aud: 'another-app' })],
  ['no audience', async (k) => k.token(VICTIM_SUB, { aud: undefined })],
  ['expired beyond the clock skew', async (k) => k.token(VICTIM_SUB, { iat: now() - 3600, exp: now() - 120 })],
  ['not yet valid (nbf beyond the clock skew)', async (k) => k.token(VICTIM_SUB, { nbf: now() + 120 })],
  ['no exp claim', async (k) => k.token(VICTIM_SUB, { exp: undefined })],
  ['no sub claim', async (k) => k.token('unused', { sub: undefined })],
  ['alg none (UnsecuredJWT)', async () => new UnsecuredJWT(claims(VICTIM_SUB)).encode()],
  ['alg none with the kid of the trusted key', async (k) => rawJwt({ alg: 'none', kid: k.rsa.kid, typ: 'JWT' }, claims(VICTIM_SUB))],
  [
    'HS256 with the RSA public key PEM as HMAC secret',
    async (k) =>
      new SignJWT(claims(VICTIM_SUB)).setProtectedHeader({ alg: 'HS256', kid: k.rsa.kid }).sign(new TextEncoder().encode(k.rsa.pem)),
  ],
  [
    'HS256 with the RSA public JWK bytes as HMAC secret',
    async (k) =>
      new SignJWT(claims(VICTIM_SUB))
        .setProtectedHeader({ alg: 'HS256', kid: k.rsa.kid })
        .sign(new TextEncoder().encode(JSON.stringify(k.rsa.jwk))),
  ],
  [
    'RS512 signed by the trusted RSA key (algorithm not allowed)',
    async (k) => {
      const { alg: _alg, ...jwk } = await exportJWK(k.rsa.privateKey);
      const rs512 = await importJWK(jwk, 'RS512');
      return new SignJWT(claims(VICTIM_SUB)).setProtectedHeader({ alg: 'RS512', kid: k.rsa.kid }).sign(rs512);
    },
  ],
  ['unknown kid (a key the JWKS does not publish)', async () => sign(await signingKey('RS256', 'not-published'), claims(VICTIM_SUB))],
  ['malformed: not a JWT at all', async () => 'not-a-jwt'],
  ['malformed: three garbage segments', async () => 'aaaa.bbbb.cccc'],
  ['malformed: a header that is not JSON', async () => `${Buffer.from('{"alg":').toString('base64url')}.e30.c2ln`],
];

describe.each(PATHS)('JWT via %s', (path) => {
  const upgrade = path.startsWith('upgrade');

  it.each([
    ['RS256', (k: Jwks) => sign(k.rsa, claims('alice'))],
    ['ES256', (k: Jwks) => sign(k.ec, claims('alice'))],
    ['RS256 expired 10 s ago (within the 30 s skew)', (k: Jwks) => k.token('alice', { iat: now() - 600, exp: now() - 10 })],
    ['RS256 with nbf 10 s ahead (within the 30 s skew)', (k: Jwks) => k.token('alice', { nbf: now() + 10 })],
    ['ES256 with aud as an array holding the audience', (k: Jwks) => sign(k.ec, claims('alice', { aud: ['other', AUDIENCE] }))],
  ])('accepts a valid token: %s', async (_name, make) => {
    const server = await jwtServer();
    const room = freshRoom();
    const token = await make(jwks);
    const result = await presentToken(server, path, token, { room_id: room, peer_id: 'alice-peer' });
    expect(result.kind, JSON.stringify(result.reply ?? result.code)).toBe('registered');
    await expectAlive(result.client);
    const other = await legit(server, { room_id: room, peer_id: 'bob', jwt: await jwks.token('bob') });
    expect(await ids(other.client)).toEqual(['alice-peer']);
  });

  it.each(ATTACKS)(`refuses %s (${upgrade ? 'close 1008' : 'AUTH_FAILED'}) and changes nothing`, async (_name, make) => {
    const server = await jwtServer();
    const room = freshRoom();
    const victim = await legit(server, { room_id: room, peer_id: 'victim', jwt: await jwks.token(VICTIM_SUB) });
    const observer = await legit(server, { room_id: room, peer_id: 'observer', jwt: await jwks.token('observer-sub') });
    const token = await make(jwks);

    // Claims the victim's subject and peer id: accepted, it would be a silent takeover.
    const result = await presentToken(server, path, token, { room_id: room, peer_id: 'victim' });
    if (upgrade) {
      expect(result.kind, JSON.stringify(result.reply ?? result.code)).toBe('closed');
      expect(result.code).toBe(1008);
    } else {
      expect(result.kind, JSON.stringify(result.reply)).toBe('error');
      expect(result.reply).toMatchObject({ code: 'AUTH_FAILED', request_type: 'register' });
      await expectAlive(result.client);
      // Nor under a fresh peer id.
      await expectRegisterError(result.client, { room_id: room, peer_id: 'intruder', [path === 'register jwt' ? 'jwt' : 'id_token']: token }, 'AUTH_FAILED');
    }
    await expectIntact(observer.client, { client: victim.client, peerId: 'victim' }, ['victim']);
    expect(victim.client.closeCode).toBeNull();
  });
});

describe('JWT: credentials required', () => {
  it('no credential at all is AUTH_FAILED; the connection stays open and nothing is registered', async () => {
    const server = await jwtServer();
    const room = freshRoom();
    const observer = await legit(server, { room_id: room, peer_id: 'observer', jwt: await jwks.token('o') });
    const anon = await dial(server);
    await expectRegisterError(anon, { room_id: room, peer_id: 'anon' }, 'AUTH_FAILED');
    await expectRegisterError(anon, { room_id: room, peer_id: 'anon', jwt: null, id_token: null, api_key: null }, 'AUTH_FAILED');
    expect(await ids(observer.client)).toEqual([]);
  });

  it('an upgrade with no credential is let in, but register still needs one', async () => {
    const server = await jwtServer();
    const client = await dial(server);
    await expectRegisterError(client, { room_id: freshRoom() }, 'AUTH_FAILED');
    await expectRegistered(client, { room_id: freshRoom(), jwt: await jwks.token('late') });
  });

  it('a bad token in register is refused even on a connection whose upgrade credential was valid', async () => {
    const server = await jwtServer();
    const room = freshRoom();
    const observer = await legit(server, { room_id: room, peer_id: 'observer', jwt: await jwks.token('o') });
    const client = await dial(server, { bearer: await jwks.token('alice') });
    const forged = await sign(await signingKey('RS256', jwks.rsa.kid), claims('alice'));
    await expectRegisterError(client, { room_id: room, peer_id: 'alice', jwt: forged }, 'AUTH_FAILED');
    expect(await ids(observer.client)).toEqual([]);
    // Without a register credential the upgrade identity applies.
    await expectRegistered(client, { room_id: room, peer_id: 'alice' });
    expect(await ids(observer.client)).toEqual(['alice']);
  });

  it('with authentication off, bad credentials are ignored everywhere', async () => {
    const server = await startServer({ auth: 'none' });
    const room = freshRoom();
    const client = await dial(server, { bearer: 'garbage' });
    await expectRegistered(client, { room_id: room, peer_id: 'a', jwt: 'not-a-jwt', api_key: 'slp_nope' });
    const viaQuery = await dial(server, { query: new UnsecuredJWT({ sub: 'x' }).encode() });
    await expectRegistered(viaQuery, { room_id: room, peer_id: 'b', id_token: 'x.y.z' });
    expect(await ids(viaQuery)).toEqual(['a']);
  });
});

describe('JWKS fetching', () => {
  it('is cached: many registrations and upgrades, one fetch', async () => {
    const server = await jwtServer();
    const room = freshRoom();
    for (let i = 0; i < 8; i++) await legit(server, { room_id: room, peer_id: `p${i}`, jwt: await jwks.token(`s${i}`) });
    for (let i = 8; i < 12; i++) await legit(server, { room_id: room, peer_id: `p${i}` }, { bearer: await sign(jwks.ec, claims(`s${i}`)) });
    expect(jwks.server.requests).toBe(1);
  });

  it('concurrent first registrations share one fetch', async () => {
    const server = await jwtServer();
    const room = freshRoom();
    const clients = await Promise.all(Array.from({ length: 6 }, () => dial(server)));
    const replies = await Promise.all(clients.map(async (c, i) => register(c, { room_id: room, peer_id: `c${i}`, jwt: await jwks.token(`c${i}`) })));
    expect(replies.map((r) => r.type)).toEqual(Array(6).fill('registered'));
    expect(jwks.server.requests).toBe(1);
  });

  it('an unknown kid refetches at most once per cooldown, however many tokens carry it', async () => {
    const cooldownMs = 2000;
    const server = await jwtServer({ jwksCooldownMs: cooldownMs });
    const room = freshRoom();
    const stranger = await signingKey('RS256', 'stranger');
    const burst = (tag: string, n: number) => Promise.all(Array.from({ length: n }, (_, i) => sign(stranger, claims(`${tag}${i}`))));
    const [first, second, upgradeToken] = [await burst('x', 5), await burst('y', 8), await sign(stranger, claims('up'))];

    const observer = await legit(server, { room_id: room, peer_id: 'observer', jwt: await jwks.token('o') });
    const fetchedAt = Date.now();
    expect(jwks.server.requests).toBe(1);

    // Within the cooldown of that fetch: unknown-kid tokens cause no refetch at all.
    const attackers = await Promise.all(Array.from({ length: 8 }, () => dial(server)));
    const early = await Promise.all(first.map((jwt, i) => register(attackers[i]!, { room_id: room, jwt })));
    expect(early.map((r) => r.code)).toEqual(Array(5).fill('AUTH_FAILED'));
    const refused = await dial(server, { bearer: upgradeToken });
    await expectClosed(refused, 1008);
    expect(Date.now() - fetchedAt, 'the first phase must fit in the cooldown').toBeLessThan(cooldownMs);
    expect(jwks.server.requests).toBe(1);

    // After the cooldown: a burst of unknown-kid tokens refetches exactly once.
    await sleep(fetchedAt + cooldownMs + 150 - Date.now());
    const late = await Promise.all(second.map((jwt, i) => register(attackers[i]!, { room_id: room, jwt })));
    expect(late.map((r) => r.code)).toEqual(Array(8).fill('AUTH_FAILED'));
    expect(jwks.server.requests).toBe(2);
    for (const a of attackers) await expectAlive(a);
    expect(await ids(observer.client)).toEqual([]);
  });

  it('a rotated-in key is picked up with one refetch once the cooldown has passed', async () => {
    const server = await jwtServer({ jwksCooldownMs: 800 });
    const room = freshRoom();
    await legit(server, { room_id: room, peer_id: 'before', jwt: await jwks.token('before') });
    const rotated = await signingKey('ES256', 'ec-2');
    jwks.server.keys = [...jwks.server.keys, rotated.jwk];
    await sleep(1000);
    const late = await legit(server, { room_id: room, peer_id: 'rotated', jwt: await sign(rotated, claims('rotated')) });
    expect(jwks.server.requests).toBe(2);
    // The rotated key is now cached: more tokens, no more fetches.
    for (let i = 0; i < 3; i++) await legit(server, { room_id: room, peer_id: `r${i}`, jwt: await sign(rotated, claims(`r${i}`)) });
    expect(jwks.server.requests).toBe(2);
    expect(await ids(late.client)).toEqual(['before', 'r0', 'r1', 'r2']);
  });

  it('an unreachable JWKS refuses the token (AUTH_FAILED), the connection stays open', async () => {
    const port = await freePort();
    const server = await startServer({
      auth: 'jwt',
      jwt: jwks.config({ jwksUrl: `http://127.0.0.1:${port}/jwks.json` }),
    });
    const client = await dial(server);
    const started = Date.now();
    await expectRegisterError(client, { room_id: freshRoom(), jwt: await jwks.token('alice') }, 'AUTH_FAILED');
    expect(Date.now() - started).toBeLessThan(WAIT);
  });
});

import { describe, expect, it } from 'vitest';
import { startServer } from '../helpers/harness.js';
import type { SignalingServer } from '../../src/server/signaling-server.js';
import {
  dial,
  expectClosed,
  expectIntact,
  expectRegisterError,
  freshRoom,
  ids,
  legit,
  now,
  sign,
  signingKey,
  useJwks,
} from './support.js';

/**
 * Cognito mode: the issuer is derived from region and pool; id tokens must carry
 * `token_use: "id"` and `aud` = the app client id, access tokens `token_use: "access"` and
 * `client_id` = the app client id. The JWKS location is overridden to the local test server.
 */

const jwks = useJwks();

const REGION = 'eu-west-1';
const POOL = 'eu-west-1_TestPool1';
const CLIENT_ID = 'app-client-1234567890';
const COGNITO_ISS = `https://cognito-idp.${REGION}.amazonaws.com/${POOL}`;

async function cognitoServer(): Promise<SignalingServer> {
  return startServer({
    auth: 'jwt',
    jwt: {
      cognito: { region: REGION, userPoolId: POOL, clientId: CLIENT_ID },
      jwksUrl: jwks.server.url,
      clockSkewSeconds: 30,
      jwksCooldownMs: 30_000,
    },
  });
}

/** A Cognito-shaped token (no aud unless given), signed by the published RSA key. */
function cognitoToken(sub: string, fields: Record<string, unknown>): Promise<string> {
  const t = now();
  const payload: Record<string, unknown> = { iss: COGNITO_ISS, sub, iat: t, auth_time: t, exp: t + 600, ...fields };
  for (const [k, v] of Object.entries(payload)) if (v === undefined) delete payload[k];
  return sign(jwks.rsa, payload);
}

const idToken = (sub: string, extra: Record<string, unknown> = {}) =>
  cognitoToken(sub, { token_use: 'id', aud: CLIENT_ID, 'cognito:username': sub, ...extra });
const accessToken = (sub: string, extra: Record<string, unknown> = {}) =>
  cognitoToken(sub, { token_use: 'access', client_id: CLIENT_ID, scope: 'openid', ...extra });

describe('Cognito tokens that are accepted', () => {
  it('an id token (token_use id, aud = client id) as id_token in register', async () => {
    const server = await cognitoServer();
    const room = freshRoom();
    const a = await legit(server, { room_id: room, peer_id: 'a', id_token: await idToken('user-a') });
    expect(a.registered.peer_id).toBe('a');
  });

  it('an access token (token_use access, client_id = client id) as jwt in register', async () => {
    const server = await cognitoServer();
    const room = freshRoom();
    const b = await legit(server, { room_id: room, peer_id: 'b', jwt: await accessToken('user-b') });
    expect(b.registered.peer_id).toBe('b');
  });

  it('both kinds on the upgrade (Bearer and ?token=), then register without credentials', async () => {
    const server = await cognitoServer();
    const room = freshRoom();
    await legit(server, { room_id: room, peer_id: 'id-peer' }, { bearer: await idToken('user-c') });
    const d = await legit(server, { room_id: room, peer_id: 'access-peer' }, { query: await accessToken('user-d') });
    expect(await ids(d.client)).toEqual(['id-peer']);
  });

  it('an ES256-signed id token', async () => {
    const server = await cognitoServer();
    const t = now();
    const token = await sign(jwks.ec, { iss: COGNITO_ISS, sub: 'user-e', token_use: 'id', aud: CLIENT_ID, iat: t, exp: t + 600 });
    await legit(server, { room_id: freshRoom(), id_token: token });
  });
});

const REFUSED: Array<[string, () => Promise<string>]> = [
  ['an access token for another app client (client_id)', () => accessToken('victim', { client_id: 'other-client' })],
  ['an access token with aud = client id but client_id of another client', () => accessToken('victim', { client_id: 'other-client', aud: CLIENT_ID })],
  ['an access token with no client_id', () => accessToken('victim', { client_id: undefined })],
  ['an id token for another audience', () => idToken('victim', { aud: 'other-client' })],
  ['an id token with client_id = client id but aud of another client', () => idToken('victim', { aud: 'other-client', client_id: CLIENT_ID })],
  ['a token with no token_use (aud = client id)', () => idToken('victim', { token_use: undefined })],
  ['a token with no token_use (client_id = client id)', () => accessToken('victim', { token_use: undefined })],
  ['a token_use that is neither id nor access', () => idToken('victim', { token_use: 'refresh' })],
  ['an id token from another user pool (issuer)', () => idToken('victim', { iss: `https://cognito-idp.${REGION}.amazonaws.com/${REGION}_OtherPool` })],
  ['an id token from the same pool id in another region', () => idToken('victim', { iss: `https://cognito-idp.us-east-1.amazonaws.com/${POOL}` })],
  ['an expired id token', () => idToken('victim', { exp: now() - 300 })],
  ['an id token signed by an unpublished key with the published kid', async () => {
    const t = now();
    return sign(await signingKey('RS256', jwks.rsa.kid), { iss: COGNITO_ISS, sub: 'victim', token_use: 'id', aud: CLIENT_ID, iat: t, exp: t + 600 });
  }],
];

describe('Cognito tokens that are refused', () => {
  it.each(REFUSED)('%s: AUTH_FAILED in register, 1008 on the upgrade, nothing changes', async (_name, make) => {
    const server = await cognitoServer();
    const room = freshRoom();
    const victim = await legit(server, { room_id: room, peer_id: 'victim', id_token: await idToken('victim') });
    const observer = await legit(server, { room_id: room, peer_id: 'observer', jwt: await accessToken('observer') });
    const token = await make();

    const attacker = await dial(server);
    await expectRegisterError(attacker, { room_id: room, peer_id: 'victim', id_token: token }, 'AUTH_FAILED');
    await expectRegisterError(attacker, { room_id: room, peer_id: 'intruder', jwt: token }, 'AUTH_FAILED');
    const upgraded = await dial(server, { bearer: token });
    upgraded.send({ type: 'register', room_id: room, peer_id: 'victim' });
    await expectClosed(upgraded, 1008);

    await expectIntact(observer.client, { client: victim.client, peerId: 'victim' }, ['victim']);
    expect(victim.client.closeCode).toBeNull();
  });
});

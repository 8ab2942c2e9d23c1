import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { exportPKCS8 } from 'jose';
import { startServer } from '../helpers/harness.js';
import { JwtVerifier } from '../../src/auth/jwt-verifier.js';
import type { SignalingServer } from '../../src/server/signaling-server.js';
import {
  AUDIENCE,
  claims,
  dial,
  expectRegisterError,
  freshRoom,
  ISSUER,
  legit,
  sign,
  signingKey,
  type SigningKey,
} from './support.js';

/**
 * Issue 12, finding 4: `--jwt-key-file` with a PEM public key used to reject every JWT (the key
 * import was a promise handed to jose unawaited). Both accepted algorithms are tried.
 */

const dir = mkdtempSync(join(tmpdir(), 'jwt-pem-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

let files = 0;
function keyFile(text: string): string {
  const path = join(dir, `key-${++files}.pem`);
  writeFileSync(path, text);
  return path;
}

async function pemServer(key: SigningKey): Promise<SignalingServer> {
  return startServer({
    auth: 'jwt',
    jwt: { keyFile: keyFile(key.pem), issuer: ISSUER, audience: AUDIENCE, clockSkewSeconds: 30, jwksCooldownMs: 30_000 },
  });
}

describe('--jwt-key-file with a PEM public key', () => {
  for (const alg of ['RS256', 'ES256'] as const) {
    it(`${alg}: a JWT signed by the matching private key registers`, async () => {
      const key = await signingKey(alg, 'pem-1');
      const server = await pemServer(key);
      const { registered } = await legit(server, { room_id: freshRoom(), peer_id: 'w', jwt: await sign(key, claims('alice')) });
      expect(registered.peer_id).toBe('w');
    });

    it(`${alg}: a JWT signed by another key is AUTH_FAILED`, async () => {
      const key = await signingKey(alg, 'pem-1');
      const other = await signingKey(alg, 'pem-1');
      const server = await pemServer(key);
      const client = await dial(server);
      await expectRegisterError(client, { room_id: freshRoom(), jwt: await sign(other, claims('alice')) }, 'AUTH_FAILED');
    });
  }

  it('a JWT of the other algorithm is AUTH_FAILED (an RSA key never verifies ES256)', async () => {
    const rsa = await signingKey('RS256', 'pem-1');
    const ec = await signingKey('ES256', 'pem-1');
    const server = await pemServer(rsa);
    const client = await dial(server);
    await expectRegisterError(client, { room_id: freshRoom(), jwt: await sign(ec, claims('alice')) }, 'AUTH_FAILED');
  });

  it('a file that holds no usable public key is refused when the verifier is made, not on the first JWT', async () => {
    const ec = await signingKey('ES256', 'pem-1');
    const config = { issuer: ISSUER, audience: AUDIENCE, clockSkewSeconds: 30, jwksCooldownMs: 30_000 };
    const privatePem = await exportPKCS8(ec.privateKey);
    const p384 = (await import('node:crypto')).generateKeyPairSync('ec', { namedCurve: 'secp384r1' }).publicKey;
    for (const text of ['-----BEGIN PUBLIC KEY-----\nnot base64 at all\n-----END PUBLIC KEY-----\n', p384.export({ type: 'spki', format: 'pem' }) as string]) {
      expect(() => new JwtVerifier({ ...config, keyFile: keyFile(text) })).toThrow(/no RS256 or ES256 public key/);
    }
    // The signing key has no business on the server.
    expect(() => new JwtVerifier({ ...config, keyFile: keyFile(privatePem) })).toThrow(/private key/);
  });
});

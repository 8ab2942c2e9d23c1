import { createPublicKey, type KeyObject } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createLocalJWKSet, createRemoteJWKSet, jwtVerify, type JWTPayload, type JWTVerifyGetKey } from 'jose';

/** Only asymmetric algorithms: never `none`, never HS256 (which a public key could be abused to sign). */
export const ACCEPTED_ALGORITHMS = ['RS256', 'ES256'] as const;

export interface JwtConfig {
  /** Remote JWKS (also derived from the Cognito settings). */
  readonly jwksUrl?: string;
  /** Local PEM public key (SPKI) or JWKS JSON file, for air-gapped sites. */
  readonly keyFile?: string;
  readonly issuer?: string;
  /** Expected `aud` (id tokens) and `client_id` (Cognito access tokens). */
  readonly audience?: string;
  readonly cognito?: { readonly region: string; readonly userPoolId: string; readonly clientId: string };
  /** Allowed clock skew for exp / nbf, in seconds. */
  readonly clockSkewSeconds: number;
  /** Least time between two JWKS refetches for an unknown kid. */
  readonly jwksCooldownMs: number;
}

export type Verified = { ok: true; subject: string; claims: JWTPayload } | { ok: false; reason: string };

/**
 * Verifies JWTs: signature with a key from the JWKS (cached; refetched on an unknown kid at most
 * once per cooldown), RS256/ES256 only, iss, aud (or Cognito client_id + token_use), exp and nbf.
 */
export class JwtVerifier {
  readonly issuer: string | undefined;
  readonly audience: string | undefined;
  /** A key set to pick from by `kid`, or the one key of a PEM file. */
  private readonly keys: JWTVerifyGetKey | KeyObject;
  private readonly cognito: boolean;

  constructor(private readonly config: JwtConfig) {
    if (config.cognito) {
      const { region, userPoolId, clientId } = config.cognito;
      this.issuer = `https://cognito-idp.${region}.amazonaws.com/${userPoolId}`;
      this.audience = clientId;
      this.cognito = true;
    } else {
      this.issuer = config.issuer;
      this.audience = config.audience;
      this.cognito = false;
    }
    const jwksUrl = config.jwksUrl ?? (config.cognito ? `${this.issuer}/.well-known/jwks.json` : undefined);
    if (config.keyFile) {
      const text = readFileSync(config.keyFile, 'utf8');
      if (text.includes('-----BEGIN')) {
        this.keys = importPem(text);
      } else {
        this.keys = createLocalJWKSet(JSON.parse(text) as Parameters<typeof createLocalJWKSet>[0]);
      }
    } else if (jwksUrl) {
      this.keys = createRemoteJWKSet(new URL(jwksUrl), {
        cooldownDuration: config.jwksCooldownMs,
        cacheMaxAge: 10 * 60_000,
        timeoutDuration: 5000,
      });
    } else {
      throw new Error('JWT authentication needs --jwks-url, the Cognito settings, or --jwt-key-file');
    }
  }

  async verify(token: string): Promise<Verified> {
    let payload: JWTPayload;
    try {
      const options = {
        algorithms: [...ACCEPTED_ALGORITHMS],
        issuer: this.issuer,
        clockTolerance: this.config.clockSkewSeconds,
        requiredClaims: ['exp', 'sub'],
      };
      const keys = this.keys;
      // jose checks that the token's alg suits a single key's type (RSA for RS256, P-256 for ES256).
      // Two calls, because its overloads take a key or a key set but not the union of both.
      const result = typeof keys === 'function' ? await jwtVerify(token, keys, options) : await jwtVerify(token, keys, options);
      payload = result.payload;
    } catch (err) {
      return { ok: false, reason: describe(err) };
    }
    const audienceProblem = this.checkAudience(payload);
    if (audienceProblem) return { ok: false, reason: audienceProblem };
    return { ok: true, subject: `jwt:${payload.iss ?? ''}:${payload.sub}`, claims: payload };
  }

  private checkAudience(payload: JWTPayload): string | null {
    const expected = this.audience;
    if (this.cognito) {
      const use = payload.token_use;
      if (use === 'id') return audIncludes(payload.aud, expected) ? null : 'audience mismatch';
      if (use === 'access') return payload.client_id === expected ? null : 'client_id mismatch';
      return 'token_use must be id or access';
    }
    if (expected === undefined) return null;
    return audIncludes(payload.aud, expected) ? null : 'audience mismatch';
  }
}

function audIncludes(aud: JWTPayload['aud'], expected: string | undefined): boolean {
  if (expected === undefined) return true;
  return Array.isArray(aud) ? aud.includes(expected) : aud === expected;
}

/**
 * A PEM public key (SPKI), RSA or P-256, read at once so a bad file stops the server at start
 * rather than failing every JWT later.
 */
function importPem(pem: string): KeyObject {
  if (/-----BEGIN [A-Z ]*PRIVATE KEY-----/.test(pem)) {
    throw new Error('the JWT key file holds a private key: give the public key (SPKI PEM) only');
  }
  let key: KeyObject;
  try {
    key = createPublicKey({ key: pem, format: 'pem' });
  } catch {
    throw new Error('the JWT key file holds no RS256 or ES256 public key (PEM could not be read)');
  }
  const p256 = key.asymmetricKeyType === 'ec' && key.asymmetricKeyDetails?.namedCurve === 'prime256v1';
  if (key.asymmetricKeyType !== 'rsa' && !p256) {
    throw new Error(`the JWT key file holds no RS256 or ES256 public key (found ${key.asymmetricKeyType ?? 'an unknown'} key)`);
  }
  return key;
}

function describe(err: unknown): string {
  const code = (err as { code?: string }).code;
  switch (code) {
    case 'ERR_JWT_EXPIRED':
      return 'token expired';
    case 'ERR_JWT_CLAIM_VALIDATION_FAILED':
      return `token claim invalid: ${(err as { claim?: string }).claim ?? ''}`;
    case 'ERR_JWS_SIGNATURE_VERIFICATION_FAILED':
      return 'bad signature';
    case 'ERR_JOSE_ALG_NOT_ALLOWED':
      return 'algorithm not allowed';
    case 'ERR_JWKS_NO_MATCHING_KEY':
      return 'unknown signing key';
    case 'ERR_JWS_INVALID':
    case 'ERR_JWT_INVALID':
      return 'malformed token';
    default:
      return code ? `token rejected (${code})` : 'token rejected';
  }
}

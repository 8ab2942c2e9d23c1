import { readFileSync } from 'node:fs';
import {
  createLocalJWKSet,
  createRemoteJWKSet,
  importSPKI,
  jwtVerify,
  type JWTPayload,
  type JWTVerifyGetKey,
  type CryptoKey,
} from 'jose';

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
  private readonly keys: JWTVerifyGetKey | CryptoKey | Promise<CryptoKey>;
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
      const result = await jwtVerify(token, this.keys as JWTVerifyGetKey, {
        algorithms: [...ACCEPTED_ALGORITHMS],
        issuer: this.issuer,
        clockTolerance: this.config.clockSkewSeconds,
        requiredClaims: ['exp', 'sub'],
      });
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

/** A PEM public key, RSA or P-256: importSPKI needs the algorithm, so try each accepted one. */
async function importPem(pem: string): Promise<CryptoKey> {
  for (const alg of ACCEPTED_ALGORITHMS) {
    try {
      return await importSPKI(pem, alg);
    } catch {
      // not a key for this algorithm
    }
  }
  throw new Error('the JWT key file holds no RS256 or ES256 public key');
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

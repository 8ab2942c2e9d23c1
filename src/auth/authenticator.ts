import type { IncomingMessage } from 'node:http';
import { protocolError, type ProtocolError } from '../protocol/error-codes.js';
import type { RegisterMessage } from '../protocol/messages.js';
import type { RecordStore } from '../state/state-backend.js';
import type { JwtVerifier } from './jwt-verifier.js';
import { matchesHash, parseApiKey } from './secrets.js';

export type AuthMode = 'none' | 'jwt' | 'keys';

/** Who a connection or a register message proved to be. */
export interface Identity {
  /** Owner of the peer ids it registers: `jwt:<iss>:<sub>` or `key:<id>`. */
  readonly subject: string;
  readonly via: 'jwt' | 'api_key';
  /** An API key's room: the only room it may join. */
  readonly roomId: string | null;
}

export type AuthResult = { ok: true; identity: Identity | null } | { ok: false; error: ProtocolError };

/**
 * Checks credentials: JWTs (mode jwt) and API keys (modes jwt and keys). With mode none every
 * credential is ignored.
 */
export class Authenticator {
  constructor(
    readonly mode: AuthMode,
    private readonly verifier: JwtVerifier | null,
    private readonly state: Pick<RecordStore, 'getApiKey'>,
  ) {
    if (mode === 'jwt' && verifier === null) throw new Error('--auth jwt needs a JWT key source');
  }

  get enabled(): boolean {
    return this.mode !== 'none';
  }

  /** The bearer credential of an upgrade request (Authorization header, or ?token=), if any. */
  static upgradeCredential(req: IncomingMessage): string | null {
    const header = req.headers.authorization;
    if (header?.startsWith('Bearer ')) return header.slice(7).trim() || null;
    const query = req.url?.includes('?') ? new URLSearchParams(req.url.slice(req.url.indexOf('?') + 1)) : null;
    return query?.get('token') || null;
  }

  /** Verifies one credential: an `slp_` API key or a JWT. */
  async verify(credential: string): Promise<AuthResult> {
    if (!this.enabled) return { ok: true, identity: null };
    if (credential.startsWith('slp_')) return this.verifyApiKey(credential);
    if (this.verifier === null) return failed('JWTs are not accepted by this server; use an API key');
    const verified = await this.verifier.verify(credential);
    if (!verified.ok) return failed(`invalid token: ${verified.reason}`);
    return { ok: true, identity: { subject: verified.subject, via: 'jwt', roomId: null } };
  }

  /** The identity a register message proves, falling back to the connection's upgrade identity. */
  async forRegister(msg: RegisterMessage, upgradeIdentity: Identity | null): Promise<AuthResult> {
    if (!this.enabled) return { ok: true, identity: null };
    const credential = msg.api_key ?? msg.jwt ?? msg.id_token ?? null;
    if (credential === null) {
      return upgradeIdentity ? { ok: true, identity: upgradeIdentity } : failed('credentials required: jwt, id_token or api_key');
    }
    return this.verify(credential);
  }

  private async verifyApiKey(key: string): Promise<AuthResult> {
    const parsed = parseApiKey(key);
    if (parsed === null) return failed('malformed API key');
    const record = await this.state.getApiKey(parsed.id);
    if (record === null || !matchesHash(parsed.secret, record.hash)) return failed('unknown API key');
    if (record.revokedAt !== null) return failed('API key revoked');
    if (record.expiresAt !== null && record.expiresAt <= Date.now()) return failed('API key expired');
    return { ok: true, identity: { subject: `key:${record.id}`, via: 'api_key', roomId: record.roomId } };
  }
}

function failed(message: string): AuthResult {
  return { ok: false, error: protocolError('AUTH_FAILED', message) };
}

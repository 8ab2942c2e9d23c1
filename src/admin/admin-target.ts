import { RedisBackend } from '../state/redis/redis-backend.js';
import { issueApiKey, newRoomRecord, publicKey, type PublicApiKey } from './records.js';
import { API_KEY_LIFETIME, lifetimeMs, ROOM_LIFETIME, type LifetimeBounds } from './lifetimes.js';
import { checkRoomId } from './room-id.js';
import { DEFAULT_LIMITS } from '../protocol/limits.js';
import { errorText } from '../net/error-text.js';

export type { PublicApiKey };

export interface CreatedRoom {
  room_id: string;
  token: string;
  expires_at: number;
}

/** Where key and room administration goes: a server's admin HTTP endpoints, or Redis directly. */
export interface AdminTarget {
  createApiKey(roomId: string, name: string, expiresInSeconds: number | null): Promise<PublicApiKey & { key: string }>;
  listApiKeys(): Promise<PublicApiKey[]>;
  /** False when there is no such key. */
  revokeApiKey(id: string): Promise<boolean>;
  createRoom(roomId: string | null, expiresInSeconds: number | null): Promise<CreatedRoom>;
  close(): Promise<void>;
}

export class AdminError extends Error {
  constructor(
    message: string,
    readonly exitCode: 1 | 2 = 1,
  ) {
    super(message);
  }
}

/** A reply of a server's HTTP endpoints: its status and JSON body ({} when it has none). */
export interface OperatorReply {
  readonly status: number;
  readonly body: Record<string, unknown>;
}

/**
 * One request to a server's operator endpoints, with the operator token. A server out of reach, a
 * refused token (401, 403) and any error status other than 404 (which the caller reads) become an
 * AdminError that says what to do.
 */
export async function operatorRequest(
  baseUrl: string,
  token: string | null,
  method: 'GET' | 'POST',
  path: string,
  body?: unknown,
): Promise<OperatorReply> {
  const url = new URL(path, baseUrl.replace(/^ws/, 'http'));
  let res: Response;
  try {
    res = await fetch(url, {
      method,
      headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
      body: body === undefined ? undefined : JSON.stringify(body),
      signal: AbortSignal.timeout(5000),
    });
  } catch (err) {
    throw new AdminError(`cannot reach ${url.origin}: ${errorText(err)}`);
  }
  const parsed = (await res.json().catch(() => ({}))) as Record<string, unknown>;
  const what = `${method} ${url.pathname}`;
  if (res.status === 401) {
    throw new AdminError(token ? `${what}: the server refused the operator token (check --operator-token)` : `${what}: not allowed (give --operator-token)`);
  }
  if (res.status === 403) throw new AdminError(`${what}: forbidden: ${String(parsed.error ?? 'the operator token is required')}`);
  if (res.status >= 400 && res.status !== 404) throw new AdminError(`${what}: HTTP ${res.status} ${String(parsed.error ?? '')}`.trimEnd());
  return { status: res.status, body: parsed };
}

/** Through a running server: POST /admin/keys, GET /admin/keys, POST /admin/keys/revoke, POST /create-room. */
export class HttpAdmin implements AdminTarget {
  constructor(
    private readonly baseUrl: string,
    private readonly token: string | null,
  ) {}

  private call(method: 'GET' | 'POST', path: string, body?: unknown): Promise<OperatorReply> {
    return operatorRequest(this.baseUrl, this.token, method, path, body);
  }

  async createApiKey(roomId: string, name: string, expiresIn: number | null) {
    const r = await this.call('POST', '/admin/keys', { room_id: roomId, name, expires_in: expiresIn });
    return r.body as unknown as PublicApiKey & { key: string };
  }

  async listApiKeys() {
    const reply = await this.call('GET', '/admin/keys');
    if (reply.status !== 200 || !Array.isArray(reply.body.keys)) {
      // A 404 here is most often the main port of a server whose operator endpoints are on --admin-port.
      throw new AdminError(`GET /admin/keys: ${String(reply.body.error ?? `HTTP ${reply.status}`)} (is --url the server's admin port?)`);
    }
    return reply.body.keys as PublicApiKey[];
  }

  async revokeApiKey(id: string) {
    return (await this.call('POST', '/admin/keys/revoke', { id })).status === 200;
  }

  async createRoom(roomId: string | null, expiresIn: number | null) {
    const r = await this.call('POST', '/create-room', { ...(roomId ? { room_id: roomId } : {}), ...(expiresIn ? { expires_in: expiresIn } : {}) });
    if (r.status !== 200) throw new AdminError(String(r.body.error ?? `HTTP ${r.status}`));
    return r.body as unknown as CreatedRoom;
  }

  async close() {}
}

/** Directly in the Redis that `serve --redis` instances share. */
export class RedisAdmin implements AdminTarget {
  private constructor(private readonly backend: RedisBackend) {}

  static async open(url: string, prefix: string): Promise<RedisAdmin> {
    const backend = new RedisBackend({ url, prefix, connectTimeoutMs: 3000 });
    try {
      await backend.open();
    } catch (err) {
      throw new AdminError(err instanceof Error ? err.message : String(err));
    }
    return new RedisAdmin(backend);
  }

  async createApiKey(roomId: string, name: string, expiresIn: number | null) {
    refuseBadRoomId(roomId);
    const lifetimeOrNone = expiresIn === null ? null : lifetime(expiresIn, API_KEY_LIFETIME);
    const { record, key } = await issueApiKey(this.backend, roomId, name, lifetimeOrNone);
    return { ...publicKey(record), key };
  }

  async listApiKeys() {
    return (await this.backend.listApiKeys()).map(publicKey);
  }

  async revokeApiKey(id: string) {
    return this.backend.revokeApiKey(id, Date.now());
  }

  async createRoom(roomId: string | null, expiresIn: number | null) {
    if (roomId !== null) refuseBadRoomId(roomId);
    // Straight to Redis is the operator's own action: the room records no creator.
    const { record, token } = newRoomRecord(roomId, lifetime(expiresIn ?? 24 * 3600, ROOM_LIFETIME), null);
    if (!(await this.backend.createRoom(record))) throw new AdminError(`room ${record.roomId} exists already`);
    return { room_id: record.roomId, token, expires_at: Math.floor(record.expiresAt / 1000) };
  }

  async close() {
    await this.backend.close();
  }
}

/** A lifetime in seconds as checked milliseconds; one out of bounds is bad usage (exit code 2). */
function lifetime(seconds: number, bounds: LifetimeBounds): number {
  const checked = lifetimeMs(seconds, bounds);
  if (!checked.ok) throw new AdminError(`--expires must be ${bounds.text}`, 2);
  return checked.ms;
}

/** Straight to Redis there is no server to refuse a bad id: refuse it here, by the same rule. */
function refuseBadRoomId(roomId: string): void {
  const checked = checkRoomId(roomId, DEFAULT_LIMITS.maxIdLength);
  if (!checked.ok) throw new AdminError(checked.error);
}

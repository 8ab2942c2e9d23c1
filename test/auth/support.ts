import { createHash } from 'node:crypto';
import { createServer, type Server as HttpServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect } from 'vitest';
import {
  exportJWK,
  exportSPKI,
  generateKeyPair,
  SignJWT,
  type CryptoKey,
  type JWK,
  type JWTHeaderParameters,
} from 'jose';
import { SignalClient, type ServerMessage } from '../../src/client/signal-client.js';
import type { SignalingServer } from '../../src/server/signaling-server.js';
import type { ServerConfig } from '../../src/server/server-options.js';
import type { JwtConfig } from '../../src/auth/jwt-verifier.js';
import { MemoryBackend } from '../../src/state/memory/memory-backend.js';
import { MemoryStore } from '../../src/state/memory/memory-store.js';
import { freshRoom, startServer } from '../helpers/harness.js';
import { useRedisCluster } from '../helpers/cluster.js';
import { requireRedis } from '../helpers/redis-process.js';

/**
 * Shared pieces of the authentication suite: real signing keys made with jose at test time, a
 * JWKS served by a local HTTP server that counts its requests, token builders, clients that can
 * send upgrade headers, and a server factory for running the same tests on both state backends.
 */

export { freshRoom };
export type { ServerMessage };

export const WAIT = 5000;
export const ISSUER = 'https://issuer.test.example';
export const AUDIENCE = 'sleap-signal-tests';
export const OPERATOR = 'operator-secret-token-0123456789';

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
export const now = () => Math.floor(Date.now() / 1000);

// ---------------------------------------------------------------- keys and tokens

export interface SigningKey {
  readonly alg: 'RS256' | 'ES256';
  readonly kid: string;
  readonly privateKey: CryptoKey;
  readonly publicKey: CryptoKey;
  /** The public JWK as the JWKS publishes it (kid, alg, use set). */
  readonly jwk: JWK;
  /** The public key as SPKI PEM. */
  readonly pem: string;
}

export async function signingKey(alg: 'RS256' | 'ES256', kid: string): Promise<SigningKey> {
  const { privateKey, publicKey } = await generateKeyPair(alg, { extractable: true });
  const jwk = { ...(await exportJWK(publicKey)), kid, alg, use: 'sig' };
  return { alg, kid, privateKey, publicKey, jwk, pem: await exportSPKI(publicKey) };
}

/** Claims of a valid token for `sub`, with `overrides`; a claim set to undefined is left out. */
export function claims(sub: string | undefined, overrides: Record<string, unknown> = {}): Record<string, unknown> {
  const t = now();
  const all: Record<string, unknown> = { iss: ISSUER, aud: AUDIENCE, sub, iat: t, exp: t + 600, ...overrides };
  for (const [k, v] of Object.entries(all)) if (v === undefined) delete all[k];
  return all;
}

/** Signs `payload` with `key` (header alg and kid of the key unless `header` says otherwise). */
export async function sign(
  key: SigningKey,
  payload: Record<string, unknown>,
  header: Partial<JWTHeaderParameters> = {},
): Promise<string> {
  return new SignJWT(payload).setProtectedHeader({ alg: key.alg, kid: key.kid, typ: 'JWT', ...header }).sign(key.privateKey);
}

const b64 = (value: unknown) => Buffer.from(typeof value === 'string' ? value : JSON.stringify(value)).toString('base64url');

/** A compact JWS made by hand: any header, any payload, any signature bytes. */
export function rawJwt(header: Record<string, unknown>, payload: Record<string, unknown>, signature = ''): string {
  return `${b64(header)}.${b64(payload)}.${signature}`;
}

/** The same token with its payload replaced (the signature left as it was). */
export function withPayload(token: string, payload: Record<string, unknown>): string {
  const [h, , s] = token.split('.');
  return `${h}.${b64(payload)}.${s}`;
}

// ---------------------------------------------------------------- JWKS server

/** A JWKS over HTTP on a free loopback port; counts the requests it answers. */
export class JwksServer {
  requests = 0;
  keys: JWK[] = [];
  private constructor(private readonly http: HttpServer) {}

  static async start(keys: JWK[] = []): Promise<JwksServer> {
    let self: JwksServer | null = null;
    const http = createServer((req, res) => {
      self!.requests++;
      if (req.url?.split('?')[0] !== '/jwks.json') {
        res.writeHead(404).end();
        return;
      }
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ keys: self!.keys }));
    });
    self = new JwksServer(http);
    self.keys = keys;
    await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
    return self;
  }

  get url(): string {
    return `http://127.0.0.1:${(this.http.address() as AddressInfo).port}/jwks.json`;
  }

  async close(): Promise<void> {
    this.http.closeAllConnections();
    await new Promise<void>((resolve) => this.http.close(() => resolve()));
  }
}

export interface Jwks {
  /** Published RS256 key (kid rsa-1). */
  readonly rsa: SigningKey;
  /** Published ES256 key (kid ec-1). */
  readonly ec: SigningKey;
  readonly server: JwksServer;
  /** Server JwtConfig pointing at this JWKS (issuer ISSUER, audience AUDIENCE, skew 30 s). */
  config(extra?: Partial<JwtConfig>): JwtConfig;
  /** A valid RS256 token for `sub`. */
  token(sub: string, overrides?: Record<string, unknown>): Promise<string>;
}

/**
 * A JWKS server for the file: started once, its published keys and request count reset before
 * each test (every test starts its own signaling servers, each with its own JWKS cache).
 */
export function useJwks(): Jwks {
  let rsa: SigningKey;
  let ec: SigningKey;
  let server: JwksServer;
  beforeAll(async () => {
    rsa = await signingKey('RS256', 'rsa-1');
    ec = await signingKey('ES256', 'ec-1');
    server = await JwksServer.start();
  });
  beforeEach(() => {
    server.keys = [rsa.jwk, ec.jwk];
    server.requests = 0;
  });
  afterAll(async () => {
    await server?.close();
  });
  return {
    get rsa() {
      return rsa;
    },
    get ec() {
      return ec;
    },
    get server() {
      return server;
    },
    config(extra = {}) {
      return { jwksUrl: server.url, issuer: ISSUER, audience: AUDIENCE, clockSkewSeconds: 30, jwksCooldownMs: 30_000, ...extra };
    },
    token(sub, overrides = {}) {
      return sign(rsa, claims(sub, overrides));
    },
  };
}

// ---------------------------------------------------------------- clients

const dialed: SignalClient[] = [];
afterEach(() => {
  dialed.splice(0).forEach((c) => c.terminate());
});

export interface DialOptions {
  /** Sent as `Authorization: Bearer <bearer>`. */
  readonly bearer?: string;
  /** Sent as `?token=<query>`. */
  readonly query?: string;
  readonly origin?: string;
  readonly path?: string;
  readonly localAddress?: string;
  /** Any other upgrade request headers (e.g. X-Forwarded-For). */
  readonly headers?: Record<string, string>;
}

/** Opens a WebSocket to `server` (closed after the test), with optional upgrade credentials. */
export async function dial(server: SignalingServer, options: DialOptions = {}): Promise<SignalClient> {
  const headers: Record<string, string> = { ...options.headers };
  if (options.bearer !== undefined) headers.authorization = `Bearer ${options.bearer}`;
  if (options.origin !== undefined) headers.origin = options.origin;
  const query = options.query !== undefined ? `?token=${encodeURIComponent(options.query)}` : '';
  const client = await SignalClient.connect(`${server.url}${options.path ?? '/'}${query}`, {
    headers,
    timeoutMs: WAIT,
    ...(options.localAddress ? { localAddress: options.localAddress } : {}),
  });
  dialed.push(client);
  return client;
}

/** Sends `register` and returns the reply (`registered` or `error`). */
export async function register(client: SignalClient, fields: Record<string, unknown>): Promise<ServerMessage> {
  return client.request({ type: 'register', ...fields }, 'registered', WAIT);
}

/** Registers and fails the test unless the reply is `registered`. */
export async function expectRegistered(client: SignalClient, fields: Record<string, unknown>): Promise<ServerMessage> {
  const reply = await register(client, fields);
  expect(reply.type, JSON.stringify(reply)).toBe('registered');
  return reply;
}

/** Connects, registers, and fails the test unless it is `registered`. */
export async function legit(
  server: SignalingServer,
  fields: Record<string, unknown>,
  options: DialOptions = {},
): Promise<{ client: SignalClient; registered: ServerMessage }> {
  const client = await dial(server, options);
  return { client, registered: await expectRegistered(client, fields) };
}

/** Sends `register`, expects `error` with `code`, and the connection stays open and usable. */
export async function expectRegisterError(client: SignalClient, fields: Record<string, unknown>, code: string): Promise<ServerMessage> {
  const reply = await register(client, fields);
  expect(reply, JSON.stringify(reply)).toMatchObject({ type: 'error', code, request_type: 'register' });
  expect(reply.reason).toBe(reply.message);
  await expectAlive(client);
  return reply;
}

/** `ping` gets `pong`: the connection is open and served. */
export async function expectAlive(client: SignalClient): Promise<void> {
  expect(client.isOpen).toBe(true);
  const pong = await client.request({ type: 'ping' }, 'pong', WAIT);
  expect(pong.type).toBe('pong');
}

/** The connection is closed by the server with `code` (within WAIT). */
export async function expectClosed(client: SignalClient, code: number): Promise<void> {
  const info = await Promise.race([client.closed, sleep(WAIT).then(() => null)]);
  expect(info, `no close within ${WAIT} ms`).not.toBeNull();
  expect(info!.code, JSON.stringify(info)).toBe(code);
}

/** Peer ids that `discover_peers` shows to `client`, sorted. */
export async function ids(client: SignalClient): Promise<string[]> {
  const list = await client.request({ type: 'discover_peers' }, 'peer_list', WAIT);
  expect(list.type, JSON.stringify(list)).toBe('peer_list');
  return (list.peers as Array<{ peer_id: string }>).map((p) => p.peer_id).sort();
}

/**
 * Nothing changed for `victim`: still open, `observer` sees exactly `expectedIds`, and a message
 * from `observer` to the victim's peer id reaches the victim's own connection.
 */
export async function expectIntact(
  observer: SignalClient,
  victim: { client: SignalClient; peerId: string },
  expectedIds: string[],
): Promise<void> {
  expect(await ids(observer)).toEqual([...expectedIds].sort());
  await expectAlive(victim.client);
  const payload = { check: Math.random() };
  observer.send({ type: 'peer_message', to_peer_id: victim.peerId, payload });
  const got = await victim.client.next('peer_message', WAIT);
  expect(got).toMatchObject({ from_peer_id: expect.any(String), to_peer_id: victim.peerId, payload });
}

// ---------------------------------------------------------------- HTTP

export interface HttpResult {
  status: number;
  body: Record<string, unknown>;
  text: string;
}

export async function http(
  port: number,
  method: 'GET' | 'POST',
  path: string,
  options: { body?: unknown; bearer?: string } = {},
): Promise<HttpResult> {
  const headers: Record<string, string> = {};
  if (options.body !== undefined) headers['content-type'] = 'application/json';
  if (options.bearer !== undefined) headers.authorization = `Bearer ${options.bearer}`;
  const res = await fetch(`http://127.0.0.1:${port}${path}`, {
    method,
    headers,
    ...(options.body !== undefined ? { body: JSON.stringify(options.body) } : {}),
    signal: AbortSignal.timeout(WAIT),
  });
  const text = await res.text();
  let body: Record<string, unknown> = {};
  try {
    const parsed: unknown = JSON.parse(text);
    if (typeof parsed === 'object' && parsed !== null) body = parsed as Record<string, unknown>;
  } catch {
    body = {};
  }
  return { status: res.status, body, text };
}

export const portOf = (server: SignalingServer) => server.address.port;

export function sha256hex(s: string): string {
  return createHash('sha256').update(s).digest('hex');
}

/** POST /admin/keys with the operator token; fails unless 200. */
export async function createKey(
  server: SignalingServer,
  body: Record<string, unknown>,
  bearer: string | undefined = OPERATOR,
): Promise<{ id: string; key: string; [field: string]: unknown }> {
  const res = await http(portOf(server), 'POST', '/admin/keys', { body, ...(bearer !== undefined ? { bearer } : {}) });
  expect(res.status, res.text).toBe(200);
  return res.body as { id: string; key: string };
}

/** POST /create-room; fails unless 200. */
export async function createRoom(
  server: SignalingServer,
  body: Record<string, unknown> = {},
  bearer?: string,
): Promise<{ room_id: string; token: string; expires_at: number }> {
  const res = await http(portOf(server), 'POST', '/create-room', { body, ...(bearer !== undefined ? { bearer } : {}) });
  expect(res.status, res.text).toBe(200);
  return res.body as { room_id: string; token: string; expires_at: number };
}

// ---------------------------------------------------------------- both backends

/** Starts `n` instances sharing one state backend (a shared in-memory store, or one Redis). */
export type MakeServers = (config: ServerConfig, n?: number) => Promise<SignalingServer[]>;

/**
 * Defines the same tests for the in-memory backend and for Redis (the latter where
 * redis-server is installed; see requireRedis). Each factory gives two instances by default,
 * so credentials made on one instance are checked on the other.
 */
export function forEachBackend(define: (make: MakeServers, backend: 'memory' | 'redis') => void): void {
  describe('memory backend', () => {
    define(async (config, n = 2) => {
      const store = new MemoryStore();
      const out: SignalingServer[] = [];
      for (let i = 0; i < n; i++) out.push(await startServer(config, { state: new MemoryBackend(store) }));
      return out;
    }, 'memory');
  });
  describe.runIf(requireRedis())('redis backend', () => {
    const cluster = useRedisCluster();
    define((config, n = 2) => cluster.servers(n, config), 'redis');
  });
}

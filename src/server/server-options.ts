import type { Logger } from 'pino';
import { DEFAULT_LIMITS, type Limits } from '../protocol/limits.js';
import type { StateBackend } from '../state/state-backend.js';
import type { AuthMode } from '../auth/authenticator.js';
import type { JwtConfig } from '../auth/jwt-verifier.js';
import type { TurnConfig } from './turn-credentials.js';

export type CompatMode = 'none' | 'sleap-rtc';

export interface ServerOptions {
  readonly host: string;
  /** 0 picks a free port. */
  readonly port: number;
  readonly compat: CompatMode;
  readonly limits: Limits;
  readonly maxConnections: number;
  readonly heartbeatIntervalMs: number;
  /** Slow-consumer cut-off: bytes buffered for one client before it is closed with 4001. */
  readonly sendBufferLimitBytes: number;
  /** Token bucket per connection over the bytes of received frames (its burst at least one largest frame). */
  readonly byteRate: { readonly perSecond: number; readonly burst: number };
  /** Largest frame a connection may send before it has registered (refused unparsed above); also its bytes per second then (twice that at once). */
  readonly unregisteredMaxFrameBytes: number;
  /** Window over which a drain spreads its 1012 closes. */
  readonly drainTimeoutMs: number;
  /** Operator token for the operator HTTP endpoints; null leaves them open when auth is off. */
  readonly operatorToken: string | null;
  readonly iceServers: readonly unknown[];
  /** Shared TURN secret and URLs: each registration gets a credential minted for it (null: none). */
  readonly turn: TurnConfig | null;
  readonly version: string;
  /** none: credentials ignored; keys: API keys; jwt: JWTs and API keys. */
  readonly auth: AuthMode;
  readonly jwt: JwtConfig | null;
  /** open: any room id; token: rooms must be created first and registrations present the token. */
  readonly rooms: 'open' | 'token';
  /** Lifetime of a created room when the request names none. */
  readonly roomExpiresMs: number;
  /** How long an authenticated subject keeps its peer id after its last registration. */
  readonly ownershipTtlMs: number;
  /** Browser origins allowed to connect; null allows all. Requests without Origin are always allowed. */
  readonly allowedOrigins: readonly string[] | null;
  /** Open connections per remote address (0: no limit). */
  readonly maxConnectionsPerIp: number;
  /** Behind a proxy: take the client address from the last X-Forwarded-For entry. */
  readonly trustProxy: boolean;
  /** Time allowed for an HTTP request, upgrade included, to arrive complete. */
  readonly handshakeTimeoutMs: number;
  /**
   * Connections the kernel queues before the server accepts them (listen backlog; capped by
   * net.core.somaxconn). A reconnect storm overflows Node's default of 511: the dropped handshakes
   * are retried by the clients' TCP after 1, 3, 7 s.
   */
  readonly listenBacklog: number;
  /** How often the connections opened, closed and refused are summed up in one info line (0: never). */
  readonly logSummaryIntervalMs: number;
  /** Bearer token required by GET /metrics; null leaves it open. */
  readonly metricsToken: string | null;
  /** Serve /metrics and the operator endpoints on this port instead of the main one (null: same port). */
  readonly adminPort: number | null;
}

export const DEFAULT_SERVER_OPTIONS: ServerOptions = Object.freeze({
  host: '0.0.0.0',
  port: 8080,
  compat: 'none',
  limits: DEFAULT_LIMITS,
  maxConnections: 50_000,
  heartbeatIntervalMs: 30_000,
  sendBufferLimitBytes: 4 * 1024 * 1024,
  byteRate: { perSecond: 1024 * 1024, burst: 2 * 1024 * 1024 },
  unregisteredMaxFrameBytes: 64 * 1024,
  drainTimeoutMs: 10_000,
  operatorToken: null,
  iceServers: [],
  turn: null,
  version: '0.0.0',
  auth: 'none',
  jwt: null,
  rooms: 'open',
  roomExpiresMs: 24 * 3_600_000,
  ownershipTtlMs: 2 * 3_600_000,
  allowedOrigins: null,
  // Off: behind a proxy or a NAT many peers share one address (see the warning when it refuses).
  maxConnectionsPerIp: 0,
  trustProxy: false,
  handshakeTimeoutMs: 10_000,
  listenBacklog: 4096,
  logSummaryIntervalMs: 60_000,
  metricsToken: null,
  adminPort: null,
});

/** What a SignalingServer is built from: options plus the parts it does not own. */
export interface ServerDeps {
  readonly state?: StateBackend;
  readonly logger?: Logger;
}

export type ServerConfig = Partial<Omit<ServerOptions, 'limits'>> & { limits?: Partial<Limits> };

export function resolveOptions(config: ServerConfig): ServerOptions {
  return {
    ...DEFAULT_SERVER_OPTIONS,
    ...config,
    limits: { ...DEFAULT_LIMITS, ...config.limits },
  };
}

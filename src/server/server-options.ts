import type { Logger } from 'pino';
import { DEFAULT_LIMITS, type Limits } from '../protocol/limits.js';
import type { StateBackend } from '../state/state-backend.js';

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
  /** Window over which a drain spreads its 1012 closes. */
  readonly drainTimeoutMs: number;
  /** Operator token for the operator HTTP endpoints; null leaves them open when auth is off. */
  readonly operatorToken: string | null;
  readonly iceServers: readonly unknown[];
  readonly version: string;
}

export const DEFAULT_SERVER_OPTIONS: ServerOptions = Object.freeze({
  host: '0.0.0.0',
  port: 8080,
  compat: 'none',
  limits: DEFAULT_LIMITS,
  maxConnections: 50_000,
  heartbeatIntervalMs: 30_000,
  sendBufferLimitBytes: 4 * 1024 * 1024,
  drainTimeoutMs: 10_000,
  operatorToken: null,
  iceServers: [],
  version: '0.0.0',
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

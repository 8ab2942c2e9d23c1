import type { RandomPool } from '../auth/random-pool.js';
import type { Logger } from 'pino';
import type { ProtocolError } from '../protocol/error-codes.js';
import type { Authenticator } from '../auth/authenticator.js';
import type { MessageValidator } from '../protocol/validate.js';
import type { StateBackend } from '../state/state-backend.js';
import type { Connection } from './connection.js';
import type { PeerRecord } from '../state/state-backend.js';
import type { LocalPeers } from './local-peers.js';
import type { ServerMetrics } from './metrics.js';
import type { ServerOptions } from './server-options.js';

/** What message handlers may use: everything a server instance owns, nothing global. */
export interface ServerContext {
  readonly serverId: string;
  readonly options: ServerOptions;
  readonly state: StateBackend;
  readonly local: LocalPeers;
  /** Every open connection of this instance, registered or not, by connection id. */
  readonly connections: ReadonlyMap<string, Connection>;
  readonly metrics: ServerMetrics;
  readonly log: Logger;
  readonly validator: MessageValidator;
  readonly auth: Authenticator;
  /** Serialised metadata per record object (records are immutable: a change is a new record). */
  readonly metadataJson: WeakMap<PeerRecord, string>;
  /** Relayed messages since start (prom-client counters are not cheap to read back). */
  readonly relayCounter: { value: number };
  /** Random peer ids and session tokens. */
  readonly random: RandomPool;
}

/** A handler's result: nothing (done, replies sent) or the error to answer with. */
export type HandlerResult = ProtocolError | undefined;
export type HandlerOutcome = HandlerResult | Promise<HandlerResult>;

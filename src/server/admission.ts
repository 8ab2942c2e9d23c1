import type { IncomingMessage } from 'node:http';
import type { Logger } from 'pino';
import { CloseCode } from '../protocol/close-codes.js';
import { Authenticator, type Identity } from '../auth/authenticator.js';
import { clientAddress } from './client-address.js';
import type { ServerOptions } from './server-options.js';

const ADDRESS_LIMIT_WARNING_INTERVAL_MS = 60_000;

/** Why an upgrade is answered with a close instead of a connection. */
export interface Refusal {
  readonly code: number;
  readonly reason: string;
  /** The `reason` label of connections_failed_total. */
  readonly metric: string;
}

export type AdmissionResult = { readonly remote: string } & (
  | { readonly admitted: true; readonly identity: Identity | null }
  | { readonly admitted: false; readonly refusal: Refusal }
);

/**
 * Who may open a WebSocket: allowed origins, the per-address and total connection limits, and the
 * credential of the upgrade when authentication is on. Keeps the open connections per address.
 */
export class Admission {
  /** Open connections per remote address. */
  private readonly perAddress = new Map<string, number>();
  private addressLimitWarnedAt = -Infinity;
  private addressLimitRefusals = 0;

  constructor(
    private readonly options: ServerOptions,
    private readonly auth: Authenticator,
    private readonly log: Logger,
  ) {}

  /** Decides an upgrade; `open`: the connections this instance holds now. `pause`/`resume` the socket while a credential is verified. */
  async check(req: IncomingMessage, open: number, socket: { pause(): void; resume(): void }): Promise<AdmissionResult> {
    const { options } = this;
    const origin = req.headers.origin;
    const remote = clientAddress(req, options.trustProxy);
    const allowed = options.allowedOrigins;
    if (origin !== undefined && allowed !== null && !allowed.includes(origin)) {
      return { remote, admitted: false, refusal: { code: CloseCode.POLICY_VIOLATION, reason: 'origin not allowed', metric: 'origin' } };
    }
    if (options.maxConnectionsPerIp > 0 && (this.perAddress.get(remote) ?? 0) >= options.maxConnectionsPerIp) {
      return { remote, admitted: false, refusal: { code: CloseCode.TRY_AGAIN_LATER, reason: 'too many connections from your address', metric: 'address_limit' } };
    }
    if (open >= options.maxConnections) {
      return { remote, admitted: false, refusal: { code: CloseCode.TRY_AGAIN_LATER, reason: 'connection limit reached', metric: 'connection_limit' } };
    }
    const credential = this.auth.enabled ? Authenticator.upgradeCredential(req) : null;
    if (credential === null) return { remote, admitted: true, identity: null };
    socket.pause();
    const verified = await this.auth.verify(credential).catch(() => null);
    socket.resume();
    if (verified?.ok) return { remote, admitted: true, identity: verified.identity };
    return { remote, admitted: false, refusal: { code: CloseCode.POLICY_VIOLATION, reason: 'invalid credentials', metric: 'auth' } };
  }

  opened(remote: string): void {
    this.perAddress.set(remote, (this.perAddress.get(remote) ?? 0) + 1);
  }

  closed(remote: string): void {
    const left = (this.perAddress.get(remote) ?? 1) - 1;
    if (left > 0) this.perAddress.set(remote, left);
    else this.perAddress.delete(remote);
  }

  refused(remote: string, refusal: Refusal): void {
    if (refusal.metric === 'address_limit') this.warnAddressLimit(remote);
  }

  /**
   * The per-address limit refusing connections often means a proxy or NAT in front: one warning a
   * minute at most, naming the way out, with the count refused since the last one.
   */
  private warnAddressLimit(remote: string): void {
    this.addressLimitRefusals++;
    const now = Date.now();
    if (now - this.addressLimitWarnedAt < ADDRESS_LIMIT_WARNING_INTERVAL_MS) return;
    const { maxConnectionsPerIp, trustProxy } = this.options;
    this.log.warn(
      { event: 'address_limit', remote, refused: this.addressLimitRefusals, limit: maxConnectionsPerIp, trustProxy },
      `refusing connections from ${remote}: --max-connections-per-ip ${maxConnectionsPerIp} reached. ` +
        (trustProxy
          ? 'Raise the limit, or 0 to turn it off.'
          : 'Behind a proxy or load balancer, set --trust-proxy so that clients\' own addresses count; otherwise raise the limit, or 0 to turn it off.'),
    );
    this.addressLimitWarnedAt = now;
    this.addressLimitRefusals = 0;
  }
}

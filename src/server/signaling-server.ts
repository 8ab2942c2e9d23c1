import { RandomPool } from '../auth/random-pool.js';
import { createServer, type IncomingMessage, type Server as HttpServer } from 'node:http';
import { hostname } from 'node:os';
import { randomBytes } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import type { Socket } from 'node:net';
import { WebSocketServer, type WebSocket } from 'ws';
import type { Logger } from 'pino';
import { CloseCode } from '../protocol/close-codes.js';
import { MessageValidator } from '../protocol/validate.js';
import { MemoryBackend } from '../state/memory/memory-backend.js';
import type { BusSink, ControlMessage, InstanceStats, OutboundFrame, RefusalReason, RelayOrigin, StateBackend } from '../state/state-backend.js';
import { Connection } from './connection.js';
import { handleHttp, type HttpBackend, type RouteSet } from './http-routes.js';
import { OperatorActions } from './operator-actions.js';
import { Authenticator, type Identity } from '../auth/authenticator.js';
import { JwtVerifier } from '../auth/jwt-verifier.js';
import { safeEqual } from '../auth/secrets.js';
import { LocalPeers } from './local-peers.js';
import { silentLogger } from './logger.js';
import { MessagePipeline } from './message-pipeline.js';
import { ServerMetrics } from './metrics.js';
import { deliverPresence } from './presence.js';
import { resolveOptions, type ServerConfig, type ServerDeps, type ServerOptions } from './server-options.js';
import type { ServerContext } from './server-context.js';
import { Heartbeat } from './heartbeat.js';
import { spreadCloses } from './drain.js';
import { relayRefusal } from './handlers/relay.js';
import { Admission } from './admission.js';
import { logStartLine } from './start-line.js';
import { ConnectionSummary } from './connection-summary.js';
import { clusterViews } from './cluster-views.js';

type Phase = 'new' | 'running' | 'draining' | 'stopped';

const SLOW_CONSUMER_GRACE_MS = 5000;

/**
 * One signaling server instance: HTTP + WebSocket on one port, its connections, and its link to
 * shared state. Everything it holds lives on this object, so tests can create several.
 */
export class SignalingServer implements BusSink {
  readonly serverId = `${hostname()}-${randomBytes(4).toString('hex')}`;
  readonly options: ServerOptions;
  readonly metrics: ServerMetrics;
  readonly log: Logger;
  readonly state: StateBackend;
  private readonly local = new LocalPeers();
  private readonly connections = new Map<string, Connection>();
  private readonly pipeline: MessagePipeline;
  private readonly ctx: ServerContext;
  private readonly http: HttpServer;
  /** Serves /metrics and the operator endpoints when an admin port is configured. */
  private readonly adminHttp: HttpServer | null;
  private readonly wss: WebSocketServer;
  private readonly operator: OperatorActions;
  private readonly admission: Admission;
  private readonly summary: ConnectionSummary;
  private readonly heartbeat: Heartbeat;
  private phase: Phase = 'new';
  private connectionCounter = 0;
  private startedAt = 0;
  private drainDone: Promise<void> | null = null;

  constructor(config: ServerConfig = {}, deps: ServerDeps = {}) {
    this.options = resolveOptions(config);
    this.log = (deps.logger ?? silentLogger()).child({ serverId: this.serverId });
    this.state = deps.state ?? new MemoryBackend();
    this.metrics = new ServerMetrics(() => this.state.census());
    this.ctx = {
      serverId: this.serverId,
      options: this.options,
      state: this.state,
      local: this.local,
      connections: this.connections,
      metrics: this.metrics,
      log: this.log,
      relayCounter: { value: 0 },
      random: new RandomPool(),
      metadataJson: new WeakMap(),
      auth: new Authenticator(this.options.auth, this.options.jwt ? new JwtVerifier(this.options.jwt) : null, this.state),
      validator: new MessageValidator({ limits: this.options.limits, compat: this.options.compat === 'sleap-rtc' }),
    };
    this.pipeline = new MessagePipeline(this.ctx);
    this.wss = new WebSocketServer({
      noServer: true,
      maxPayload: this.options.limits.maxPayloadBytes,
      perMessageDeflate: false,
      clientTracking: false,
    });
    this.operator = new OperatorActions(this.ctx);
    this.admission = new Admission(this.options, this.ctx.auth, this.log);
    const http = this.httpBackend();
    const separateAdmin = this.options.adminPort !== null;
    const main: RouteSet = { public: true, operator: !separateAdmin };
    this.http = createServer({ requestTimeout: this.options.handshakeTimeoutMs }, (req, res) => void handleHttp(http, main, req, res));
    this.http.on('connection', (socket: Socket) => this.guardHandshake(socket));
    this.http.on('request', (req: IncomingMessage) => this.handshakeDone(req.socket));
    this.http.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => void this.upgrade(req, socket, head));
    // The admin port has no handshake guard: Node's own timeouts cut slow requests, checked every second.
    const timeout = this.options.handshakeTimeoutMs;
    const adminTimeouts = { requestTimeout: timeout, headersTimeout: timeout, connectionsCheckingInterval: Math.max(1, Math.min(1000, timeout)) };
    this.adminHttp = separateAdmin ? createServer(adminTimeouts, (req, res) => void handleHttp(http, { public: false, operator: true }, req, res)) : null;
    this.heartbeat = new Heartbeat(this.options.heartbeatIntervalMs);
    this.summary = new ConnectionSummary(this.log, this.options.logSummaryIntervalMs, () => this.connections.size);
  }

  /** Listens and attaches to shared state; resolves with the bound address. */
  async start(): Promise<AddressInfo> {
    if (this.phase !== 'new') throw new Error('server already started');
    await new Promise<void>((resolve, reject) => {
      this.http.once('error', reject);
      this.http.listen({ port: this.options.port, host: this.options.host, backlog: this.options.listenBacklog }, () => {
        this.http.off('error', reject);
        resolve();
      });
    });
    if (this.adminHttp) {
      await new Promise<void>((resolve, reject) => {
        this.adminHttp!.once('error', reject);
        this.adminHttp!.listen(this.options.adminPort!, this.options.host, () => resolve());
      });
    }
    const address = this.address;
    try {
      await this.state.start(
        { serverId: this.serverId, host: address.address, port: address.port, version: this.options.version, startedAt: Date.now() },
        this,
        {
          operation: (name) => this.metrics.redisOperation(name),
          failure: (name, err) => {
            this.metrics.redisFailures.inc();
            this.log.debug({ err, operation: name }, 'shared state operation failed');
          },
          dropped: (reason) => this.metrics.messagesFailed.inc({ reason }),
          event: (level, message, fields) => this.log[level]({ event: 'state', ...fields }, message),
        },
      );
    } catch (err) {
      await new Promise<void>((resolve) => this.http.close(() => resolve()));
      this.adminHttp?.close();
      throw err;
    }
    this.startedAt = Date.now();
    this.phase = 'running';
    this.heartbeat.start();
    logStartLine(this.log, this.options, this.state.kind, address);
    this.summary.start();
    return address;
  }

  get address(): AddressInfo {
    return this.http.address() as AddressInfo;
  }

  /** The admin listener's address, when an admin port is configured. */
  get adminAddress(): AddressInfo | null {
    return (this.adminHttp?.address() as AddressInfo | null) ?? null;
  }

  /** ws://host:port of this instance (loopback when bound to all addresses). */
  get url(): string {
    const { address, port } = this.address;
    const host = address === '0.0.0.0' || address === '::' ? '127.0.0.1' : address.includes(':') ? `[${address}]` : address;
    return `ws://${host}:${port}`;
  }

  get connectionCount(): number {
    return this.connections.size;
  }

  /**
   * Graceful drain: /health turns 503 at once, upgrades are refused, open connections are closed
   * with 1012 spread over the drain window, then the instance stops.
   */
  drain(): Promise<void> {
    if (this.drainDone) return this.drainDone;
    if (this.phase !== 'running') return Promise.resolve();
    this.phase = 'draining';
    this.log.info({ event: 'draining', connections: this.connections.size, windowMs: this.options.drainTimeoutMs }, 'draining');
    this.drainDone = (async () => {
      const all = [...this.connections.values()];
      await spreadCloses(all, this.options.drainTimeoutMs, (c) => c.close(CloseCode.SERVICE_RESTART, 'server restarting', 'server_shutdown'));
      await this.shutdown();
    })();
    return this.drainDone;
  }

  /** Stops at once: every connection is closed with 1001. Also ends a drain in progress. */
  async stop(): Promise<void> {
    if (this.phase === 'stopped' || this.phase === 'new') {
      this.phase = 'stopped';
      return;
    }
    this.phase = 'draining';
    for (const c of this.connections.values()) c.close(CloseCode.GOING_AWAY, 'server stopping', 'server_shutdown');
    await this.shutdown();
  }

  private shutdownDone: Promise<void> | null = null;

  private shutdown(): Promise<void> {
    this.shutdownDone ??= (async () => {
      this.heartbeat.stop();
      this.summary.stop();
      const open = [...this.connections.values()];
      // Closing handshakes get a moment; then sockets that did not answer are cut.
      const grace = setTimeout(() => open.forEach((c) => c.ws.terminate()), 2000);
      await Promise.all(open.map((c) => c.finished));
      clearTimeout(grace);
      try {
        await this.state.stop();
      } catch (err) {
        this.log.warn({ err }, 'state backend did not stop cleanly');
      }
      for (const server of [this.http, this.adminHttp]) {
        if (!server) continue;
        server.closeAllConnections();
        await new Promise<void>((resolve) => server.close(() => resolve()));
      }
      this.phase = 'stopped';
      this.log.info({ event: 'stopped' }, 'stopped');
    })();
    return this.shutdownDone;
  }

  /**
   * Upgrade checks, cheapest first: draining (HTTP 503), then after the handshake origin (1008),
   * per-address and total limits (1013), and a credential on the request (1008 when invalid).
   */
  private readonly handshakeTimers = new WeakMap<Duplex, NodeJS.Timeout>();

  /** A socket that has not sent a complete request (or upgrade) within the handshake timeout is cut (slowloris). */
  private guardHandshake(socket: Socket): void {
    const timer = setTimeout(() => {
      this.metrics.connectionsFailed.inc({ reason: 'handshake_timeout' });
      socket.destroy();
    }, this.options.handshakeTimeoutMs);
    timer.unref();
    this.handshakeTimers.set(socket, timer);
    socket.once('close', () => clearTimeout(timer));
  }

  private handshakeDone(socket: Duplex): void {
    clearTimeout(this.handshakeTimers.get(socket));
  }

  private async upgrade(req: IncomingMessage, socket: Duplex, head: Buffer): Promise<void> {
    this.handshakeDone(socket);
    if (this.phase !== 'running') {
      this.metrics.connectionsFailed.inc({ reason: 'draining' });
      socket.end('HTTP/1.1 503 Service Unavailable\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
      return;
    }
    const admission = await this.admission.check(req, this.connections.size, socket);
    if (socket.destroyed) return;
    this.wss.handleUpgrade(req, socket, head, (ws) => {
      const { remote } = admission;
      if (!admission.admitted) {
        const { refusal } = admission;
        this.metrics.connectionsFailed.inc({ reason: refusal.metric });
        this.log.debug({ event: 'connection_refused', remote, reason: refusal.reason, code: refusal.code }, 'connection refused');
        this.summary.countRefused();
        this.admission.refused(remote, refusal);
        ws.close(refusal.code, refusal.reason);
        return;
      }
      this.accept(ws, req, remote, admission.identity);
    });
  }

  /** A connection admitted: its pipeline, heartbeat, counts and close handling. */
  private accept(ws: WebSocket, req: IncomingMessage, remote: string, identity: Identity | null): void {
    const conn = new Connection(`${this.serverId}:${++this.connectionCounter}`, ws, req.socket, remote, {
      ratePerSecond: this.options.limits.ratePerSecond,
      rateBurst: this.options.limits.rateBurst,
      bytesPerSecond: this.options.byteRate.perSecond,
      // One largest frame must always fit.
      bytesBurst: Math.max(this.options.byteRate.burst, this.options.limits.maxPayloadBytes),
      unregisteredBytesPerSecond: this.options.unregisteredMaxFrameBytes,
      sendBufferLimitBytes: this.options.sendBufferLimitBytes,
    });
    conn.identity = identity;
    conn.onCutOff = () => {
      // A slow consumer leaves at once; its socket gets a few seconds to take the 4001, then goes.
      this.pipeline.closed(conn);
      setTimeout(() => ws.terminate(), SLOW_CONSUMER_GRACE_MS).unref();
    };
    this.connections.set(conn.id, conn);
    this.heartbeat.add(conn);
    this.admission.opened(remote);
    this.metrics.connectionsTotal.inc();
    this.metrics.connectionsActive.inc();
    this.log.debug({ event: 'connection_open', connectionId: conn.id, remote, path: req.url?.split('?')[0] }, 'connection open');
    this.summary.countOpened();
    ws.on('message', (data, isBinary) => this.pipeline.receive(conn, data as Buffer, isBinary));
    ws.on('pong', () => {
      conn.alive = true;
    });
    ws.on('error', (err) => this.log.debug({ err, connectionId: conn.id }, 'socket error'));
    ws.on('close', (code, reason) => {
      conn.closed = true;
      this.connections.delete(conn.id);
      this.heartbeat.remove(conn);
      this.admission.closed(remote);
      this.metrics.connectionsActive.dec();
      this.log.debug(
        { event: 'connection_close', connectionId: conn.id, peerId: conn.peerId, code, reason: reason.toString(), leftReason: conn.leftReason },
        'connection closed',
      );
      this.summary.countClosed();
      this.pipeline.closed(conn);
    });
  }

  // ---- BusSink: what other instances (through shared state) ask of this one.

  deliver(peerId: string, roomId: string, frame: OutboundFrame, refuse: () => void): boolean {
    const conn = this.local.get(peerId);
    // Never into another room: a peer that moved rooms since the relay was routed is not its target.
    if (conn !== undefined && conn.registration?.roomId === roomId && conn.send(frame)) return true;
    return this.local.hold(peerId, roomId, frame, refuse);
  }

  refused(origin: RelayOrigin, targetPeerId: string, reason: RefusalReason): void {
    const conn = this.connections.get(origin.connectionId);
    if (conn === undefined || conn.closed) return;
    const error = relayRefusal(this.ctx, origin.requestType, targetPeerId, reason);
    if (error !== undefined) this.pipeline.fail(conn, error, origin.requestType);
  }

  presence(roomId: string, aboutConnectionId: string, frame: OutboundFrame): void {
    deliverPresence(this.local, roomId, aboutConnectionId, frame);
  }

  control(message: ControlMessage): void {
    const conn = message.connectionId !== null ? this.connections.get(message.connectionId) : this.local.get(message.peerId);
    if (conn?.registration?.peerId !== message.peerId) return;
    conn.close(message.code, message.reason, message.leftReason ?? undefined);
  }

  instanceStats(): InstanceStats {
    return { connections: this.connections.size, peers: this.local.size, relayed: this.relayed };
  }

  /** Messages relayed to a target by this instance (local deliveries and publishes). */
  private get relayed(): number {
    return this.ctx.relayCounter.value;
  }

  // ---- HTTP.

  health(): { ok: boolean; body: Record<string, unknown> } {
    const base = {
      server_id: this.serverId,
      version: this.options.version,
      backend: this.state.kind,
      connections: this.connections.size,
      peers: this.local.size,
      uptime_seconds: this.startedAt ? Math.round((Date.now() - this.startedAt) / 1000) : 0,
    };
    if (this.phase !== 'running') return { ok: false, body: { status: 'draining', reason: 'instance is draining', ...base } };
    if (!this.state.healthy()) {
      return { ok: false, body: { status: 'unavailable', reason: 'shared state is unreachable', ...base } };
    }
    return { ok: true, body: { status: 'ok', ...base } };
  }

  private httpBackend(): HttpBackend {
    const op = this.operator;
    const views = clusterViews(this.state, () => ({
      serverId: this.serverId,
      host: this.address.address,
      port: this.address.port,
      version: this.options.version,
      startedAt: this.startedAt,
      ...this.instanceStats(),
    }));
    return {
      health: () => this.health(),
      metricsText: async () => ({ contentType: this.metrics.registry.contentType, body: await this.metrics.registry.metrics() }),
      metricsAllowed: (req) => {
        const token = this.options.metricsToken;
        return token === null || safeEqual(Authenticator.upgradeCredential({ headers: req.headers, url: '' } as IncomingMessage), token);
      },
      allowed: (req, credentials) => op.allowed(req, credentials),
      createRoom: (request) => op.createRoom(request),
      deletePeer: (request) => op.deletePeer(request),
      deleteRoom: (request) => op.deleteRoom(request),
      createApiKey: (body) => op.createApiKey(body),
      listApiKeys: () => op.listApiKeys(),
      revokeApiKey: (id) => op.revokeApiKey(id),
      clusterView: views,
    };
  }
}

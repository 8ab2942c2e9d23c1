import { createServer, type IncomingMessage, type Server as HttpServer } from 'node:http';
import { hostname } from 'node:os';
import { randomBytes, timingSafeEqual } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type WebSocket } from 'ws';
import type { Logger } from 'pino';
import { CloseCode } from '../protocol/close-codes.js';
import { MessageValidator } from '../protocol/validate.js';
import { MemoryBackend } from '../state/memory/memory-backend.js';
import type { BusSink, ControlMessage, InstanceStats, PeerRecord, StateBackend } from '../state/state-backend.js';
import { Connection } from './connection.js';
import { handleHttp, type HttpBackend } from './http-routes.js';
import { LocalPeers } from './local-peers.js';
import { silentLogger } from './logger.js';
import { MessagePipeline } from './message-pipeline.js';
import { ServerMetrics } from './metrics.js';
import { announceLeft, deliverPresence } from './presence.js';
import { resolveOptions, type ServerConfig, type ServerDeps, type ServerOptions } from './server-options.js';
import type { ServerContext } from './server-context.js';
import { Heartbeat } from './heartbeat.js';
import { spreadCloses } from './drain.js';

type Phase = 'new' | 'running' | 'draining' | 'stopped';

/**
 * One signaling server instance: HTTP + WebSocket on one port, its connections, and its link to
 * shared state. Everything it holds lives on this object, so tests can create several.
 */
export class SignalingServer implements BusSink, HttpBackend {
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
  private readonly wss: WebSocketServer;
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
      validator: new MessageValidator({ limits: this.options.limits, compat: this.options.compat === 'sleap-rtc' }),
    };
    this.pipeline = new MessagePipeline(this.ctx);
    this.wss = new WebSocketServer({
      noServer: true,
      maxPayload: this.options.limits.maxPayloadBytes,
      perMessageDeflate: false,
      clientTracking: false,
    });
    this.http = createServer((req, res) => void handleHttp(this, req, res));
    this.http.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => this.upgrade(req, socket, head));
    this.heartbeat = new Heartbeat(this.options.heartbeatIntervalMs, () => this.connections.values());
  }

  /** Listens and attaches to shared state; resolves with the bound address. */
  async start(): Promise<AddressInfo> {
    if (this.phase !== 'new') throw new Error('server already started');
    await new Promise<void>((resolve, reject) => {
      this.http.once('error', reject);
      this.http.listen(this.options.port, this.options.host, () => {
        this.http.off('error', reject);
        resolve();
      });
    });
    const address = this.address;
    try {
      await this.state.start(
        { serverId: this.serverId, host: address.address, port: address.port, version: this.options.version, startedAt: Date.now() },
        this,
        {
          operation: (name) => this.metrics.redisOperations.inc({ operation: name }),
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
      throw err;
    }
    this.startedAt = Date.now();
    this.phase = 'running';
    this.heartbeat.start();
    this.log.info({ event: 'listening', host: address.address, port: address.port, backend: this.state.kind }, 'listening');
    return address;
  }

  get address(): AddressInfo {
    return this.http.address() as AddressInfo;
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
      this.http.closeAllConnections();
      await new Promise<void>((resolve) => this.http.close(() => resolve()));
      this.phase = 'stopped';
      this.log.info({ event: 'stopped' }, 'stopped');
    })();
    return this.shutdownDone;
  }

  private upgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    if (this.phase !== 'running') {
      this.metrics.connectionsFailed.inc({ reason: 'draining' });
      socket.end('HTTP/1.1 503 Service Unavailable\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
      return;
    }
    this.wss.handleUpgrade(req, socket, head, (ws) => this.accept(ws, req));
  }

  private accept(ws: WebSocket, req: IncomingMessage): void {
    const remote = req.socket.remoteAddress ?? 'unknown';
    if (this.connections.size >= this.options.maxConnections) {
      this.metrics.connectionsFailed.inc({ reason: 'connection_limit' });
      ws.close(CloseCode.TRY_AGAIN_LATER, 'connection limit reached');
      return;
    }
    const conn = new Connection(`${this.serverId}:${++this.connectionCounter}`, ws, remote, {
      ratePerSecond: this.options.limits.ratePerSecond,
      rateBurst: this.options.limits.rateBurst,
      sendBufferLimitBytes: this.options.sendBufferLimitBytes,
    });
    this.connections.set(conn.id, conn);
    this.metrics.connectionsTotal.inc();
    this.metrics.connectionsActive.inc();
    this.log.info({ event: 'connection_open', connectionId: conn.id, remote, path: req.url?.split('?')[0] }, 'connection open');
    ws.on('message', (data, isBinary) => this.pipeline.receive(conn, data as Buffer, isBinary));
    ws.on('pong', () => {
      conn.alive = true;
    });
    ws.on('error', (err) => this.log.debug({ err, connectionId: conn.id }, 'socket error'));
    ws.on('close', (code, reason) => {
      conn.closed = true;
      this.connections.delete(conn.id);
      this.metrics.connectionsActive.dec();
      this.log.info(
        { event: 'connection_close', connectionId: conn.id, peerId: conn.peerId, code, reason: reason.toString(), leftReason: conn.leftReason },
        'connection closed',
      );
      this.pipeline.closed(conn);
    });
  }

  // ---- BusSink: what other instances (through shared state) ask of this one.

  deliver(peerId: string, frame: string): boolean {
    const conn = this.local.get(peerId);
    if (conn === undefined) return false;
    conn.send(frame);
    return true;
  }

  presence(roomId: string, aboutConnectionId: string, frame: string): void {
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

  // ---- HttpBackend.

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

  async metricsText(): Promise<{ contentType: string; body: string }> {
    return { contentType: this.metrics.registry.contentType, body: await this.metrics.registry.metrics() };
  }

  operatorAllowed(req: IncomingMessage): boolean {
    const expected = this.options.operatorToken;
    if (expected === null) return true;
    const header = req.headers.authorization ?? '';
    const given = header.startsWith('Bearer ') ? header.slice(7) : '';
    const a = Buffer.from(given);
    const b = Buffer.from(expected);
    return a.length === b.length && timingSafeEqual(a, b);
  }

  async deletePeer(peerId: string): Promise<{ found: boolean; body: Record<string, unknown> }> {
    const record = await this.state.getPeer(peerId);
    if (record === null) return { found: false, body: { error: `peer ${peerId} not found` } };
    await this.kick(record);
    return { found: true, body: { deleted: peerId, room_id: record.roomId } };
  }

  async deleteRoom(selector: { roomId?: string; peerId?: string }): Promise<{ found: boolean; body: Record<string, unknown> }> {
    let roomId = selector.roomId;
    if (roomId === undefined) {
      const record = await this.state.getPeer(selector.peerId!);
      if (record === null) return { found: false, body: { error: `peer ${selector.peerId} not found` } };
      roomId = record.roomId;
    }
    const peers = await this.state.listRoom(roomId);
    if (peers.length === 0) return { found: false, body: { error: `room ${roomId} not found` } };
    for (const record of peers) await this.kick(record);
    return { found: true, body: { room_id: roomId, deleted_peers: peers.map((p) => p.peerId) } };
  }

  /**
   * Operator removal: the shared record goes first (so a dead owner cannot keep it), subscribers
   * are told `kicked`, then the owning instance closes the socket.
   */
  private async kick(record: PeerRecord): Promise<void> {
    const removed = await this.state.unregister(record.peerId, record.connectionId);
    if (removed) await announceLeft(this.ctx, removed, 'kicked');
    const message: ControlMessage = {
      kind: 'close',
      peerId: record.peerId,
      connectionId: record.connectionId,
      code: CloseCode.NORMAL,
      reason: 'removed by an operator',
      leftReason: 'kicked',
    };
    if (record.serverId === this.serverId) this.control(message);
    else await this.state.sendControl(record.serverId, message);
    this.log.info({ event: 'kicked', peerId: record.peerId, roomId: record.roomId }, 'peer removed by an operator');
  }
}

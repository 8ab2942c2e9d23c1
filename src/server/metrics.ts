import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

import type { RoomCensus } from '../state/state-backend.js';

/** The server's Prometheus metrics, in a registry of its own (no global state). */
export class ServerMetrics {
  readonly registry = new Registry();
  readonly connectionsActive: Gauge;
  readonly connectionsTotal: Counter;
  readonly connectionsFailed: Counter<'reason'>;
  readonly roomsActive: Gauge;
  readonly peersPerRoom: Histogram;
  readonly messagesSent: Counter<'type'>;
  readonly messagesFailed: Counter<'reason'>;
  readonly messageLatency: Histogram<'type'>;
  readonly redisOperations: Counter<'operation'>;
  readonly redisFailures: Counter;
  /** Labelled children, made once per label value: the hot path must not hash labels per message. */
  private readonly sentByType = new Map<string, Counter.Internal>();
  private readonly latencyByType = new Map<string, Histogram.Internal<"type">>();
  private readonly redisByOperation = new Map<string, Counter.Internal>();

  constructor(census: () => Promise<RoomCensus>) {
    const registers = [this.registry];
    collectDefaultMetrics({ register: this.registry });
    this.connectionsActive = new Gauge({
      name: 'websocket_connections_active',
      help: 'Open WebSocket connections on this instance',
      registers,
    });
    this.connectionsTotal = new Counter({
      name: 'websocket_connections_total',
      help: 'WebSocket connections accepted since start',
      registers,
    });
    this.connectionsFailed = new Counter({
      name: 'websocket_connections_failed',
      help: 'WebSocket upgrades refused or connections that failed, by reason',
      labelNames: ['reason'],
      registers,
    });
    // One census serves both metrics of a scrape (prom-client collects them concurrently).
    let pending: Promise<RoomCensus> | null = null;
    const sharedCensus = () =>
      (pending ??= census().finally(() => {
        setImmediate(() => (pending = null));
      }));
    this.roomsActive = new Gauge({
      name: 'rooms_active',
      help: 'Rooms with at least one peer',
      registers,
      async collect() {
        this.set((await sharedCensus()).rooms);
      },
    });
    this.peersPerRoom = new Histogram({
      name: 'peers_per_room',
      help: 'Peers in each active room, sampled at scrape time',
      buckets: [1, 2, 5, 10, 25, 50, 100, 250, 500, 1000],
      registers,
      async collect() {
        const { sizes } = await sharedCensus();
        this.reset();
        for (const size of sizes) this.observe(size);
      },
    });
    this.messagesSent = new Counter({
      name: 'messages_sent_total',
      help: 'Messages relayed to a target peer, by type',
      labelNames: ['type'],
      registers,
    });
    this.messagesFailed = new Counter({
      name: 'messages_failed_total',
      help: 'Messages refused or dropped, by reason (error code, or dropped_* in compat mode)',
      labelNames: ['reason'],
      registers,
    });
    this.messageLatency = new Histogram({
      name: 'message_latency_seconds',
      help: 'Server-side handling time of a client message, by type',
      labelNames: ['type'],
      buckets: [0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1],
      registers,
    });
    this.redisOperations = new Counter({
      name: 'redis_operations_total',
      help: 'Redis commands and scripts issued, by operation',
      labelNames: ['operation'],
      registers,
    });
    this.redisFailures = new Counter({
      name: 'redis_failures_total',
      help: 'Redis operations that failed',
      registers,
    });
  }

  /** Counts one message relayed to its target. */
  sent(type: string): void {
    let child = this.sentByType.get(type);
    if (child === undefined) this.sentByType.set(type, (child = this.messagesSent.labels({ type })));
    child.inc();
  }

  /** Counts one Redis command or script (on the cross-instance relay path: one per message). */
  redisOperation(operation: string): void {
    let child = this.redisByOperation.get(operation);
    if (child === undefined) this.redisByOperation.set(operation, (child = this.redisOperations.labels({ operation })));
    child.inc();
  }

  /** Records the server-side handling time of one message. */
  handled(type: string, seconds: number): void {
    let child = this.latencyByType.get(type);
    if (child === undefined) this.latencyByType.set(type, (child = this.messageLatency.labels({ type })));
    child.observe(seconds);
  }
}

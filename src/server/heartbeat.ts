import { PING_FRAME } from './frames.js';
import type { Connection } from './connection.js';

/** Slices of the interval the pings are spread over, so 10,000 connections are not pinged in one burst. */
const SLICES = 10;

/**
 * Every interval, for each connection: if it has not answered the previous protocol ping it is
 * terminated (peer_left reason `timeout`); otherwise it gets a protocol ping, and registered
 * peers also the application-level `{"type":"ping"}` the deployed clients expect. A dead peer is
 * thus gone within two intervals. Connections are split over SLICES slots, each handled at its own
 * moment of the interval (a connection's slot never changes, so each is still visited once per
 * interval).
 */
export class Heartbeat {
  private timer: NodeJS.Timeout | null = null;
  private slice = 0;

  constructor(
    private readonly intervalMs: number,
    private readonly connections: () => Iterable<Connection>,
  ) {}

  start(): void {
    if (this.timer !== null || this.intervalMs <= 0) return;
    this.timer = setInterval(() => this.tickSlice(), this.intervalMs / SLICES);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer !== null) clearInterval(this.timer);
    this.timer = null;
  }

  private tickSlice(): void {
    const slice = this.slice;
    this.slice = (slice + 1) % SLICES;
    for (const conn of this.connections()) if (conn.heartbeatSlot === slice) this.visit(conn);
  }

  /** One full round at once (all slices). */
  tick(): void {
    for (const conn of this.connections()) this.visit(conn);
  }

  private visit(conn: Connection): void {
    if (conn.closed) return;
    if (!conn.alive) {
      conn.terminate('timeout');
      return;
    }
    conn.alive = false;
    conn.ws.ping();
    if (conn.registration !== null) conn.send(PING_FRAME);
  }
}

/** The slot a new connection gets: consecutive connections land in consecutive slices. */
export function heartbeatSlot(sequence: number): number {
  return sequence % SLICES;
}

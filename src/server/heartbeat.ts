import { PING_FRAME } from '../protocol/frames.js';
import type { Connection } from './connection.js';

/**
 * How often a slice of the connections is visited. Pinging 1,000 of 10,000 connections at once
 * (two writes each) stalled relays for tens of milliseconds; a visit every 50 ms touches a few
 * dozen.
 */
const SLICE_MS = 50;
const MAX_SLICES = 1200;

/**
 * Every interval, for each connection: if it has not answered the previous protocol ping it is
 * terminated (peer_left reason `timeout`); otherwise it gets a protocol ping, and registered
 * peers also the application-level `{"type":"ping"}` the deployed clients expect. A dead peer is
 * thus gone within two intervals. Connections are spread over slots, one slot visited every
 * SLICE_MS (a connection's slot never changes, so each is visited once per interval).
 */
export class Heartbeat {
  private timer: NodeJS.Timeout | null = null;
  private readonly slots: Set<Connection>[];
  private next = 0;
  private size = 0;

  constructor(private readonly intervalMs: number) {
    const count = intervalMs > 0 ? Math.min(MAX_SLICES, Math.max(1, Math.round(intervalMs / SLICE_MS))) : 1;
    this.slots = Array.from({ length: count }, () => new Set<Connection>());
  }

  /**
   * A new connection goes into the slot visited last, so its first ping comes about one interval
   * after it opened; when a burst of connections has filled that slot past one and a half times
   * the average, into the slot visited before it (then the one before that).
   */
  add(conn: Connection): void {
    const n = this.slots.length;
    const cap = Math.ceil(((this.size + 1) / n) * 1.5) + 8;
    let slot = (this.next - 1 + n) % n;
    for (let i = 0; i < n && this.slots[slot]!.size >= cap; i++) slot = (slot - 1 + n) % n;
    conn.heartbeatSlot = slot;
    this.slots[slot]!.add(conn);
    this.size++;
  }

  remove(conn: Connection): void {
    if (this.slots[conn.heartbeatSlot]!.delete(conn)) this.size--;
  }

  start(): void {
    if (this.timer !== null || this.intervalMs <= 0) return;
    this.timer = setInterval(() => this.tickSlice(), this.intervalMs / this.slots.length);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer !== null) clearInterval(this.timer);
    this.timer = null;
  }

  private tickSlice(): void {
    const slot = this.slots[this.next]!;
    this.next = (this.next + 1) % this.slots.length;
    // Deleting from a Set while iterating it is safe (a terminated connection leaves its slot).
    for (const conn of slot) this.visit(conn);
  }

  private visit(conn: Connection): void {
    if (conn.closed) return;
    if (!conn.alive) {
      conn.terminate('timeout');
      return;
    }
    conn.alive = false;
    // Both pings leave in one write: at 10,000 peers the heartbeat is a third of an instance's
    // writes at 1,000 relays/s.
    conn.ping();
    if (conn.registration !== null) conn.send(PING_FRAME);
  }
}

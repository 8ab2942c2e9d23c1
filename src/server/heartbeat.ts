import { PING_FRAME } from './frames.js';
import type { Connection } from './connection.js';

/**
 * Every interval: a connection that has not answered the previous protocol ping is terminated
 * (peer_left reason `timeout`); every other one gets a protocol ping, and registered peers also
 * the application-level `{"type":"ping"}` the deployed clients expect. A dead peer is thus gone
 * within two intervals.
 */
export class Heartbeat {
  private timer: NodeJS.Timeout | null = null;

  constructor(
    private readonly intervalMs: number,
    private readonly connections: () => Iterable<Connection>,
  ) {}

  start(): void {
    if (this.timer !== null || this.intervalMs <= 0) return;
    this.timer = setInterval(() => this.tick(), this.intervalMs);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer !== null) clearInterval(this.timer);
    this.timer = null;
  }

  tick(): void {
    for (const conn of this.connections()) {
      if (conn.closed) continue;
      if (!conn.alive) {
        conn.terminate('timeout');
        continue;
      }
      conn.alive = false;
      conn.ws.ping();
      if (conn.registration !== null) conn.send(PING_FRAME);
    }
  }
}

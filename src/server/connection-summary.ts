import type { Logger } from 'pino';

/**
 * Connections opened, closed and refused, told once per interval at info level (each one is a
 * debug line): an operator sees the churn without a line per connection at 10,000 of them. An
 * interval with nothing to tell is not logged.
 */
export class ConnectionSummary {
  private opened = 0;
  private closed = 0;
  private refused = 0;
  private timer: NodeJS.Timeout | null = null;

  constructor(
    private readonly log: Logger,
    private readonly intervalMs: number,
    private readonly openNow: () => number,
  ) {}

  start(): void {
    if (this.intervalMs <= 0 || this.timer !== null) return;
    this.timer = setInterval(() => this.flush(), this.intervalMs);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer !== null) clearInterval(this.timer);
    this.timer = null;
    this.flush();
  }

  countOpened(): void {
    this.opened++;
  }

  countClosed(): void {
    this.closed++;
  }

  countRefused(): void {
    this.refused++;
  }

  private flush(): void {
    if (this.opened === 0 && this.closed === 0 && this.refused === 0) return;
    const open = this.openNow();
    this.log.info(
      { event: 'connections', opened: this.opened, closed: this.closed, refused: this.refused, open, intervalMs: this.intervalMs },
      `connections: ${this.opened} opened, ${this.closed} closed, ${this.refused} refused; ${open} open`,
    );
    this.opened = this.closed = this.refused = 0;
  }
}

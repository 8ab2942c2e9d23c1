import type { BackendObserver } from '../state-backend.js';

/** How long after its restore an instance waits before announcing presence events of an outage. */
export const RESTORE_SETTLE_MS = 1500;

/** Presence events of an outage kept for the other instances, at most (the oldest go first). */
const MAX_HELD_PRESENCE = 10_000;

interface HeldEvent {
  readonly roomId: string;
  readonly envelope: string;
}

export interface PresenceHoldDeps {
  /** Publishes once to every instance with presence subscribers in the room, but `skipServer`. */
  fanOut(roomId: string, envelope: string, skipServer: string): Promise<void>;
  healthy(): boolean;
  stopped(): boolean;
  serverId(): string;
  observer(): BackendObserver;
}

/**
 * Presence events this instance could not publish (Redis unreachable, its subscriber lost, its
 * state being written back, or one publish that failed): kept in order and told to the other
 * instances later. While events are held, later ones queue behind them, so that every instance
 * hears a room's events in order.
 */
export class PresenceHold {
  private readonly events: HeldEvent[] = [];
  private dropped = 0;
  private flushTimer: NodeJS.Timeout | null = null;

  constructor(private readonly deps: PresenceHoldDeps) {}

  get size(): number {
    return this.events.length;
  }

  hold(roomId: string, envelope: string): void {
    if (this.events.length >= MAX_HELD_PRESENCE) {
      this.events.shift();
      this.dropped++;
    }
    this.events.push({ roomId, envelope });
    // Reachable (a publish timed out, or events queue behind held ones): no restore will come to
    // send them, so a flush is scheduled here; unreachable, the restore schedules it.
    if (this.deps.healthy()) this.announce();
  }

  /**
   * Tells the other instances the held events, in order. They restore their own presence
   * subscribers when they reconnect, which takes up to a second, so this waits a moment after the
   * restore: sent sooner, the events would reach nobody.
   */
  announce(): void {
    if (this.events.length === 0 || this.flushTimer !== null) return;
    this.flushTimer = setTimeout(() => void this.flush(), RESTORE_SETTLE_MS);
    this.flushTimer.unref();
  }

  stop(): void {
    if (this.flushTimer) clearTimeout(this.flushTimer);
    this.flushTimer = null;
  }

  private async flush(): Promise<void> {
    this.flushTimer = null;
    if (this.deps.stopped()) return;
    const observer = this.deps.observer();
    const dropped = this.dropped;
    this.dropped = 0;
    if (dropped > 0) {
      observer.event('warn', `${dropped} presence events of the outage were not kept (more than ${MAX_HELD_PRESENCE}); watchers elsewhere should discover again`);
    }
    try {
      while (this.events.length > 0) {
        const { roomId, envelope } = this.events[0]!;
        await this.deps.fanOut(roomId, envelope, this.deps.serverId());
        this.events.shift();
      }
    } catch {
      observer.event('warn', 'could not announce the presence events of the outage yet; retrying', { held: this.events.length });
      if (this.deps.healthy()) this.announce();
    }
  }
}

import type { BackendObserver } from '../state-backend.js';
import type { RoomCopies } from './room-copy.js';

/**
 * Brings a room's copy up to date in the background when a relay found its target missing from it
 * (the target joined through another instance since this one's last join or listing into the
 * room). Until then every relay to such a target takes the look-up script; after it, one PUBLISH.
 * At most one refresh per room per interval; rooms without a copy are left alone (a copy dropped
 * for its bounds is not fetched back for relays).
 */
export class CopyRefresh {
  private recent = new Set<string>();
  private previous = new Set<string>();
  private windowStart = performance.now();

  constructor(
    private readonly copies: RoomCopies,
    private readonly observer: () => BackendObserver,
    private readonly intervalMs = 1000,
  ) {}

  request(roomId: string): void {
    if (!this.copies.has(roomId)) return;
    // Two windows of rooms refreshed: bounded memory, and a room waits one to two intervals.
    const now = performance.now();
    if (now - this.windowStart >= this.intervalMs) {
      this.previous = this.recent;
      this.recent = new Set();
      this.windowStart = now;
    }
    if (this.recent.has(roomId) || this.previous.has(roomId)) return;
    this.recent.add(roomId);
    this.copies.list(roomId).catch((err: unknown) => this.observer().event('warn', 'could not refresh a copy of a room', { err, roomId }));
  }
}

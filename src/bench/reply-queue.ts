/**
 * Scheduled times (µs) of a peer's requests of one kind awaiting their replies, oldest first: the
 * server answers each connection's requests in order, so a reply belongs to the oldest request.
 */
export class ReplyQueue {
  private readonly times: number[] = [];
  private head = 0;

  get length(): number {
    return this.times.length - this.head;
  }

  push(scheduledUs: number): void {
    this.times.push(scheduledUs);
  }

  /** The oldest request's time, taken off the queue; undefined when none waits. */
  shift(): number | undefined {
    const times = this.times;
    const head = this.head;
    if (head >= times.length) return undefined;
    const scheduled = times[head]!;
    this.head = head + 1;
    // Reuse the array once it is empty, and drop a long consumed front now and then.
    if (head + 1 === times.length) {
      times.length = 0;
      this.head = 0;
    } else if (head > 1024) {
      times.splice(0, head + 1);
      this.head = 0;
    }
    return scheduled;
  }

  /** Forgets every request waiting; returns how many there were. */
  clear(): number {
    const n = this.length;
    this.times.length = 0;
    this.head = 0;
    return n;
  }
}

/**
 * The bench's one clock: microseconds on the host's monotonic clock (process.hrtime). Every
 * thread of the process (and every process on the host) reads the same clock, so a relay's
 * one-way latency can be taken as receive time minus the send time the message carries.
 */
export function nowUs(): number {
  return Number(process.hrtime.bigint() / 1000n);
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, Math.max(0, ms)));
}

/** Sleeps until the monotonic clock reaches `targetUs` (returns at once when it already has). */
export function sleepUntil(targetUs: number): Promise<void> {
  const ms = (targetUs - nowUs()) / 1000;
  return ms <= 0 ? Promise.resolve() : sleep(ms);
}

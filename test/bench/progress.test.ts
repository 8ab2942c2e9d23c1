import { describe, expect, it } from 'vitest';
import { progressBar } from '../../src/bench/progress.js';
import { plannedSeconds } from '../../src/bench/progress-ticker.js';

describe('the live progress line of a long run', () => {
  it('plans the run as ramp at the connect rate, warm-up, measuring and drain', () => {
    expect(plannedSeconds({ peers: 10_000, connect: { rate: 2000 }, warmupMs: 5000, durationMs: 300_000, drainMs: 2000 })).toBe(312);
  });

  it('shows the share done and the time left', () => {
    expect(progressBar(0, 312)).toBe('[--------------------]   0% 5m 12s left');
    expect(progressBar(156, 312)).toBe('[##########----------]  50% 2m 36s left');
    expect(progressBar(305.2, 312)).toBe('[####################]  97% 7s left');
    // A run that overran its plan (a slow drain) is full, with nothing left.
    expect(progressBar(320, 312)).toBe('[####################] 100% 0s left');
  });
});

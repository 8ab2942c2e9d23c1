import { describe, expect, it } from 'vitest';
import { nowUs } from '../../src/bench/clock.js';
import { Random } from '../../src/bench/random.js';
import { decodeHistogram, encodeHistogram, histogramStats, newHistogram, Recorder, recordUs } from '../../src/bench/recorder.js';
import { nextGapUs, OpenLoopSchedule, TimerHeap } from '../../src/bench/schedule.js';

describe('arrival processes', () => {
  it('fixed: exactly the interval; poisson: exponential gaps with the right mean', () => {
    const random = new Random(7);
    expect(nextGapUs('fixed', 4, random)).toBe(250_000);
    const gaps = Array.from({ length: 20_000 }, () => nextGapUs('poisson', 10, random));
    const mean = gaps.reduce((a, b) => a + b, 0) / gaps.length;
    expect(mean).toBeGreaterThan(95_000);
    expect(mean).toBeLessThan(105_000);
    // Exponential: about 1/e of the gaps are longer than the mean.
    const longer = gaps.filter((g) => g > 100_000).length / gaps.length;
    expect(longer).toBeGreaterThan(0.34);
    expect(longer).toBeLessThan(0.4);
  });

  it('the same seed gives the same schedule', () => {
    const a = new Random(42);
    const b = new Random(42);
    expect(Array.from({ length: 5 }, () => a.next())).toEqual(Array.from({ length: 5 }, () => b.next()));
  });
});

describe('TimerHeap', () => {
  it('pops in time order', () => {
    const heap = new TimerHeap();
    const random = new Random(1);
    const times = Array.from({ length: 500 }, () => random.next() * 1000);
    times.forEach((t, i) => heap.push(t, i));
    const popped: number[] = [];
    while (heap.size > 0) popped.push(times[heap.pop()]!);
    expect(popped).toEqual([...times].sort((x, y) => x - y));
  });
});

describe('OpenLoopSchedule', () => {
  it('fires each id at its rate until the end, on intended times that do not drift', async () => {
    const start = nowUs() + 10_000;
    const fired = new Map<number, number[]>();
    const schedule = new OpenLoopSchedule({
      arrival: 'fixed',
      rate: 50,
      random: new Random(3),
      endUs: start + 400_000,
      due: (id, intended, now) => {
        expect(now).toBeGreaterThanOrEqual(intended);
        fired.set(id, [...(fired.get(id) ?? []), intended]);
      },
    });
    for (let id = 0; id < 10; id++) schedule.add(id, start);
    schedule.start();
    await schedule.done;
    for (let id = 0; id < 10; id++) {
      const times = fired.get(id)!;
      expect(times.length).toBe(20);
      // Fixed interval of 20 ms between intended times, whatever the timer jitter.
      for (let k = 1; k < times.length; k++) expect(times[k]! - times[k - 1]!).toBeCloseTo(20_000, 3);
    }
  });
});

describe('histograms', () => {
  it('encode and merge without losing counts', () => {
    const a = newHistogram();
    const b = newHistogram();
    for (let i = 1; i <= 1000; i++) recordUs(a, i);
    for (let i = 0; i < 1000; i++) recordUs(b, 100_000);
    const merged = decodeHistogram(encodeHistogram(a));
    merged.add(decodeHistogram(encodeHistogram(b)));
    const stats = histogramStats(merged);
    expect(stats.count).toBe(2000);
    expect(stats.p50_us).toBeGreaterThan(990);
    expect(stats.p50_us).toBeLessThan(1010);
    expect(stats.max_us).toBeGreaterThan(99_000);
  });

  it('recorders merge counters and errors too', () => {
    const a = new Recorder();
    a.record('relay', 10);
    a.counters.relaysSent = 5;
    a.error('close.1006');
    const b = new Recorder();
    b.merge(a.encode());
    b.merge(a.encode());
    expect(b.histograms.relay.totalCount).toBe(2);
    expect(b.counters.relaysSent).toBe(10);
    expect(b.errors.get('close.1006')).toBe(2);
    expect(b.errorTotal).toBe(2);
  });
});

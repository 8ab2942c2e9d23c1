import { describe, expect, it } from 'vitest';
import { StateUnavailableError } from '../../src/protocol/error-codes.js';
import { CommandRunner } from '../../src/state/redis/command-runner.js';

const never = () => new Promise<never>(() => {});
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
/** When a call settled, in ms after `t0`, and how. */
const settled = (p: Promise<unknown>, t0: number) =>
  p.then(
    (value) => ({ at: performance.now() - t0, value, error: null as unknown }),
    (error: unknown) => ({ at: performance.now() - t0, value: null, error }),
  );

describe('Redis calls are bounded in time', () => {
  it('a stuck call still fails with StateUnavailableError at its timeout', async () => {
    const runner = new CommandRunner(60);
    const t0 = performance.now();
    const r = await settled(runner.run('hget', never), t0);
    expect(r.error).toBeInstanceOf(StateUnavailableError);
    expect((r.error as Error).message).toBe('Redis hget failed: timed out after 60 ms');
    expect(r.at).toBeGreaterThanOrEqual(59);
  });

  it('each call times out at its own deadline, calls answered in time are untouched, and a later call after idle times out too', async () => {
    const runner = new CommandRunner(80);
    const t0 = performance.now();
    const first = settled(runner.run('a', never), t0);
    const answered = settled(runner.run('b', () => sleep(20).then(() => 'ok')), t0);
    await sleep(40);
    const second = settled(runner.run('c', never), t0);
    const [a, b, c] = await Promise.all([first, answered, second]);
    expect(b).toMatchObject({ value: 'ok', error: null });
    expect(a.error).toBeInstanceOf(StateUnavailableError);
    expect(c.error).toBeInstanceOf(StateUnavailableError);
    expect(a.at).toBeGreaterThanOrEqual(79);
    // The second call started 40 ms later: its deadline is its own, not the first one's.
    expect(c.at).toBeGreaterThanOrEqual(40 + 79);
    expect(c.at - a.at).toBeGreaterThanOrEqual(30);
    // Idle, then a new stuck call: it is bounded too.
    const t1 = performance.now();
    const d = await settled(runner.run('d', never), t1);
    expect(d.error).toBeInstanceOf(StateUnavailableError);
    expect(d.at).toBeGreaterThanOrEqual(79);
  });

  it("a call's own failure passes through as StateUnavailableError with the reply's text", async () => {
    const runner = new CommandRunner(1000);
    await expect(runner.run('evalsha', () => Promise.reject(new Error('NOSCRIPT gone')))).rejects.toThrow('Redis evalsha failed: NOSCRIPT gone');
  });
});

import { InvalidArgumentError } from 'commander';
import { describe, expect, it } from 'vitest';
import { DURATION_PATTERN, durationMs, durationText } from '../../src/options/duration.js';
import { parseDuration, parseDurationText } from '../../src/options/option-parsers.js';
import { validateScenario } from '../../src/bench/scenario/load.js';

describe('the one duration grammar (flags, config, scenario files, thresholds)', () => {
  it('takes a number and a unit of us, ms, s, m, h, d', () => {
    const ms: [string, number][] = [['250us', 0.25], ['500ms', 500], ['1.5s', 1500], ['2m', 120_000], ['1h', 3_600_000], ['30d', 30 * 86_400_000], [' 10s ', 10_000]];
    for (const [text, value] of ms) expect(durationMs(text), text).toBe(value);
  });

  it('takes a bare number only when told its unit', () => {
    expect(durationMs('10')).toBeNull();
    expect(durationMs('10', 's')).toBe(10_000);
    expect(durationText('10', 's')).toBe('10s');
    expect(durationText(' 2m ', 's')).toBe('2m');
  });

  it('refuses what is not a duration', () => {
    for (const bad of ['', 's', '10 sec', '-1s', '1e3ms', '10x', '.5s']) {
      expect(durationMs(bad, 's'), bad).toBeNull();
      expect(new RegExp(DURATION_PATTERN).test(bad), bad).toBe(false);
    }
  });
});

describe('duration options', () => {
  it('--timeout and friends: milliseconds, a bare number in seconds', () => {
    expect(parseDuration('30s')).toBe(30_000);
    expect(parseDuration('5')).toBe(5000);
    expect(parseDuration('30d')).toBe(2_592_000_000);
    expect(parseDuration('1500us')).toBe(2);
    expect(() => parseDuration('soon')).toThrow(InvalidArgumentError);
    expect(() => parseDuration('soon')).toThrow('expected a duration like 30s, 500ms, 2m; got "soon"');
  });

  it('bench flags keep the text, with its unit', () => {
    expect(parseDurationText('10')).toBe('10s');
    expect(parseDurationText('500us')).toBe('500us');
    expect(parseDurationText('1h')).toBe('1h');
    expect(() => parseDurationText('10 sec')).toThrow('expected a duration like 10s, 500ms, 2m; got "10 sec"');
  });

  it('scenario files take the same units', () => {
    expect(validateScenario({ duration: '1m', drain: '250us' }).scenario).toMatchObject({ durationMs: 60_000, drainMs: 0.25 });
    expect(validateScenario({ connect: { timeout: '1d' } }).scenario.connect.timeoutMs).toBe(86_400_000);
  });
});

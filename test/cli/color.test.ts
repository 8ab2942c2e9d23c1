import { describe, expect, it } from 'vitest';
import { colorLevel } from '../../src/cli/color.js';

describe('the colour rule', () => {
  it('is off unless the output is a terminal, and off on a terminal when NO_COLOR is set; FORCE_COLOR overrides', () => {
    // chalk's own detection decides the depth on a terminal (it reads FORCE_COLOR and TERM).
    expect(colorLevel({ isTTY: false }, { FORCE_COLOR: '3' })).toBeGreaterThan(0);
    expect(colorLevel({ isTTY: false }, { FORCE_COLOR: '1', NO_COLOR: '1' })).toBeGreaterThan(0);
    expect(colorLevel({ isTTY: true }, { FORCE_COLOR: '0' })).toBe(0);
    expect(colorLevel({ isTTY: true }, { CI: 'true' })).toBeGreaterThan(0);
    expect(colorLevel({ isTTY: true }, { TERM: 'dumb' })).toBe(0);
    expect(colorLevel({ isTTY: false }, { FORCE_COLOR: '0' })).toBe(0);
    expect(colorLevel({}, {})).toBe(0);
    expect(colorLevel({ isTTY: true }, { NO_COLOR: '1' })).toBe(0);
    expect(colorLevel({ isTTY: true }, { NO_COLOR: '' })).toBe(colorLevel({ isTTY: true }, {}));
  });
});

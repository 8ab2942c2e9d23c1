import { describe, expect, it } from 'vitest';
import { RandomPool } from '../../src/auth/random-pool.js';

describe('RandomPool', () => {
  it('hands out base64url strings of the asked length, never the same bytes twice, across refills', () => {
    const pool = new RandomPool(64);
    const seen = new Set<string>();
    for (let i = 0; i < 1000; i++) {
      const s = pool.secret(24);
      expect(s).toMatch(/^[A-Za-z0-9_-]{32}$/);
      seen.add(s);
    }
    expect(seen.size).toBe(1000);
    expect(Buffer.from(pool.secret(9), 'base64url')).toHaveLength(9);
    expect(Buffer.from(pool.secret(100), 'base64url')).toHaveLength(100);
  });
});

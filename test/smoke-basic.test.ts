import { describe, expect, it } from 'vitest';
import { runSmoke } from '../src/smoke/smoke-check.js';
import { startServer } from './helpers/harness.js';

describe('smoke check (in-process)', () => {
  it('passes against a live server', async () => {
    const server = await startServer();
    const result = await runSmoke({ urls: [server.url], stepTimeoutMs: 2000 });
    expect(result.steps.filter((s) => !s.ok)).toEqual([]);
    expect(result.ok).toBe(true);
  });
});

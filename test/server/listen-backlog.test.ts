import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { startServer } from '../helpers/harness.js';

/** The listen backlog of a TCP port as the kernel holds it (ss: Send-Q of a listening socket). */
function backlogOf(port: number): number | null {
  const out = execFileSync('ss', ['-ltnH', `sport = :${port}`], { encoding: 'utf8' });
  const fields = out.trim().split(/\s+/);
  return fields.length >= 3 ? Number(fields[2]) : null;
}

const hasSs = (() => {
  try {
    execFileSync('ss', ['-V'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
})();

describe.runIf(hasSs || process.env.CI)('listen backlog (--listen-backlog)', () => {
  it('is what the server asks the kernel for: a reconnect storm needs more than Node\'s default 511', async () => {
    const server = await startServer({ listenBacklog: 1000 });
    try {
      expect(backlogOf(server.address.port)).toBe(1000);
    } finally {
      await server.stop();
    }
    const byDefault = await startServer();
    try {
      const somaxconn = Number(execFileSync('cat', ['/proc/sys/net/core/somaxconn'], { encoding: 'utf8' }));
      expect(backlogOf(byDefault.address.port)).toBe(Math.min(4096, somaxconn));
    } finally {
      await byDefault.stop();
    }
  });
});

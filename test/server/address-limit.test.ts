import { WebSocket } from 'ws';
import { afterEach, describe, expect, it } from 'vitest';
import { startServer } from '../helpers/harness.js';
import { capturedLogger } from '../helpers/log-lines.js';
import type { SignalingServer } from '../../src/server/signaling-server.js';

/** Opens a raw WebSocket; resolves once open, or with the close code if it is refused. */
function dial(url: string, graceMs = 0): Promise<{ ws: WebSocket; refusedWith: number | null }> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url);
    let opened = false;
    ws.once('open', () => {
      opened = true;
      // A refusal is an accepted upgrade closed at once: give its close frame a moment to arrive.
      setTimeout(() => resolve({ ws, refusedWith: null }), graceMs);
    });
    ws.once('close', (code) => (opened ? resolve({ ws, refusedWith: code }) : reject(new Error(`closed before open: ${code}`))));
    ws.once('error', reject);
  });
}

const open: WebSocket[] = [];
let server: SignalingServer | null = null;
afterEach(async () => {
  for (const ws of open.splice(0)) ws.terminate();
  await server?.stop();
  server = null;
});

describe('the per-address connection limit', () => {
  it('admits more than 1,000 connections from one address with the default configuration', async () => {
    server = await startServer();
    const url = `${server.url}/ws`;
    const count = 1_100;
    for (let i = 0; i < count; i += 100) {
      const batch = await Promise.all(Array.from({ length: 100 }, () => dial(url)));
      open.push(...batch.map((b) => b.ws));
    }
    // Every one is still open a moment later (a 1013 would have closed the 1,001st on).
    await new Promise((r) => setTimeout(r, 200));
    expect(open.filter((ws) => ws.readyState !== WebSocket.OPEN).length).toBe(0);
    expect(server.connectionCount).toBe(count);
  }, 60_000);

  it('warns once a minute at most when it refuses, naming the flag and --trust-proxy', async () => {
    const { logger, lines } = capturedLogger();
    server = await startServer({ maxConnectionsPerIp: 1 }, { logger });
    const url = `${server.url}/ws`;
    open.push((await dial(url)).ws);
    for (let i = 0; i < 3; i++) {
      const refused = await dial(url, 2000);
      expect(refused.refusedWith).toBe(1013);
    }
    const warnings = lines.map((l) => JSON.parse(l) as Record<string, unknown>).filter((l) => l.event === 'address_limit');
    expect(warnings).toHaveLength(1);
    expect(warnings[0]!.level).toBe(40);
    expect(String(warnings[0]!.msg)).toContain('--max-connections-per-ip 1');
    expect(String(warnings[0]!.msg)).toContain('--trust-proxy');
  });
});

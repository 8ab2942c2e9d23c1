import { describe, expect, it } from 'vitest';
import { connect, startServer } from '../helpers/harness.js';
import { capturedLogger } from '../helpers/log-lines.js';

type Line = Record<string, unknown>;
const parsed = (lines: string[]) => lines.map((l) => JSON.parse(l) as Line);

describe('what an operator reads in the log', () => {
  it('the first line, at any level, says what the instance is and how it is set up', async () => {
    const { logger, lines } = capturedLogger('warn');
    const server = await startServer({ version: '9.9.9', auth: 'none', rooms: 'open' }, { logger });
    const first = parsed(lines)[0]!;
    expect(first).toMatchObject({
      level: 30,
      event: 'listening',
      serverId: server.serverId,
      version: '9.9.9',
      port: server.address.port,
      backend: 'memory',
      auth: 'none',
      rooms: 'open',
      compat: 'none',
      limits: { maxConnections: 50_000, maxConnectionsPerIp: 0, maxPayloadBytes: 1024 * 1024 },
    });
    expect(String(first.msg)).toMatch(/^sleap-signal 9\.9\.9 listening on .*:\d+ \(memory backend, auth none, rooms open, compat none\)$/);
    // Nothing else at info reaches a warn-level log.
    const c = await connect(server);
    await c.close();
    await server.stop();
    expect(parsed(lines).slice(1).every((l) => (l.level as number) >= 40)).toBe(true);
  });

  it('connections open and close at debug level; info gets one summary per interval', async () => {
    const { logger, lines } = capturedLogger('info');
    const server = await startServer({ logSummaryIntervalMs: 200 }, { logger });
    const clients = await Promise.all([connect(server), connect(server), connect(server)]);
    await clients[0]!.close();
    const deadline = Date.now() + 5000;
    let summary: Line | undefined;
    while (summary === undefined && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 50));
      summary = parsed(lines).find((l) => l.event === 'connections');
    }
    expect(summary).toMatchObject({ level: 30, opened: 3, closed: 1, refused: 0, open: 2, serverId: server.serverId });
    expect(parsed(lines).filter((l) => l.event === 'connection_open' || l.event === 'connection_close')).toEqual([]);
    for (const c of clients.slice(1)) await c.close();
    await server.stop();
  });
});

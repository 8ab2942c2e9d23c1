import { afterEach, describe, expect, it } from 'vitest';
import { runBench } from '../../src/bench/runner.js';
import type { BenchReport } from '../../src/bench/report-schema.js';
import { validateScenario } from '../../src/bench/scenario/load.js';
import { nowUs } from '../../src/bench/clock.js';
import { startServer } from '../helpers/harness.js';
import { quick } from './bench-helpers.js';
import { blackHole, freePort } from '../helpers/net.js';

/** Deliberately broken targets: each failure must land in its own error class. */

async function bench(urls: string[], raw: Record<string, unknown>): Promise<BenchReport> {
  return runBench({ loaded: validateScenario(quick(raw), { source: 'test' }), urls, threads: 1 });
}

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  await Promise.all(cleanups.splice(0).map((c) => c()));
});

describe('errors by class', () => {
  it('nothing listening: connect.refused for every peer, and the run still reports (and fails errors==0)', async () => {
    const port = await freePort();
    const r = await bench([`ws://127.0.0.1:${port}`], { peers: 20, rooms: 2, thresholds: ['errors==0'] });
    expect(r.errors.by_class).toEqual({ 'connect.refused': 20 });
    expect(r.connections).toMatchObject({ connected: 0, registered: 0, attempts: 20 });
    expect(r.relays.sent).toBe(0);
    expect(r.verdict.exit_code).toBe(99);
  });

  it('a server that accepts TCP and never answers: connect.timeout', async () => {
    const hole = await blackHole();
    cleanups.push(hole.close);
    const started = nowUs();
    const r = await bench([`ws://127.0.0.1:${hole.port}`], { peers: 10, connect: { rate: 5000, max_in_flight: 10, timeout: '500ms' } });
    expect(r.errors.by_class).toEqual({ 'connect.timeout': 10 });
    // The handshake timeout holds: all ten in parallel, not one after another.
    expect((nowUs() - started) / 1000).toBeLessThan(5000);
  });

  it('a server that resets the connection: connect.reset', async () => {
    const { createServer } = await import('node:net');
    const tcp = createServer((socket) => socket.resetAndDestroy());
    await new Promise<void>((resolve) => tcp.listen(0, '127.0.0.1', resolve));
    cleanups.push(() => new Promise((resolve) => tcp.close(() => resolve())));
    const r = await bench([`ws://127.0.0.1:${(tcp.address() as { port: number }).port}`], { peers: 8, rooms: 1 });
    expect(r.errors.by_class).toEqual({ 'connect.reset': 8 });
  });

  it('an upgrade refused with an HTTP status: connect.http_NNN', async () => {
    const { createServer } = await import('node:http');
    const http = createServer((_req, res) => res.writeHead(404).end());
    http.on('upgrade', (_req, socket) => socket.end('HTTP/1.1 503 Service Unavailable\r\nContent-Length: 0\r\n\r\n'));
    await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
    cleanups.push(() => new Promise((resolve) => http.close(() => resolve())));
    const r = await bench([`ws://127.0.0.1:${(http.address() as { port: number }).port}`], { peers: 6, rooms: 1 });
    expect(r.errors.by_class).toEqual({ 'connect.http_503': 6 });
  });

  it('a server at its connection limit: close.1013 for the peers beyond it', async () => {
    const server = await startServer({ maxConnections: 5 });
    const r = await bench([server.url], { peers: 20, rooms: 2, traffic: { rate: 1 } });
    expect(r.errors.by_class).toEqual({ 'close.1013': 15 });
    expect(r.connections.registered).toBe(5);
  });

  it('rooms that are too small: protocol.ROOM_FULL', async () => {
    const server = await startServer({ limits: { maxPeersPerRoom: 5 } });
    const r = await bench([server.url], { peers: 20, rooms: 2, connect: { rate: 5000, max_in_flight: 1, timeout: '3s' }, traffic: { rate: 1 } });
    expect(r.errors.by_class).toEqual({ 'protocol.ROOM_FULL': 10 });
    expect(r.connections.registered).toBe(10);
    // The refused peers' sockets were closed; relays only between registered peers.
    expect(r.relays.lost).toBe(0);
  });

  it('a rate limit below the load: protocol.RATE_LIMITED, and the dropped relays show up as lost', async () => {
    const server = await startServer({ limits: { ratePerSecond: 5, rateBurst: 5 } });
    const r = await bench([server.url], {
      peers: 20,
      rooms: 2,
      // The scenario claims a generous target so the bench does not refuse to run it.
      server: { rate_limit: '1000' },
      traffic: { rate: 30, arrival: 'fixed' },
    });
    expect(r.errors.by_class['protocol.RATE_LIMITED']).toBeGreaterThan(0);
    expect(Object.keys(r.errors.by_class)).toEqual(['protocol.RATE_LIMITED']);
    expect(r.relays.lost).toBeGreaterThan(0);
    expect(r.relays.sent).toBe(r.relays.received + r.relays.lost);
  });

  it('a server that stops mid-run: close.1001 for every peer', async () => {
    const server = await startServer();
    const run = bench([server.url], { peers: 30, rooms: 3, warmup: '200ms', duration: '1500ms', traffic: { rate: 2 } });
    await new Promise((r) => setTimeout(r, 700));
    await server.stop();
    const r = await run;
    expect(r.errors.by_class['close.1001']).toBe(30);
    expect(r.connections.open_at_end).toBe(0);
  });
});

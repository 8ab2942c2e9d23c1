import { describe, expect, it } from 'vitest';
import { freshRoom, startServer } from '../helpers/harness.js';
import { useRedisCluster } from '../helpers/cluster.js';
import { requireRedis } from '../helpers/redis-process.js';
import { requireChromium, runPage, type PageResult } from './browser.js';

/**
 * A page in headless Chromium with two RTCPeerConnections, each signaling over its own WebSocket
 * through the client library (dist/client/peer-client.js, loaded as an ES module), trickling its
 * candidates. Chromium gathers on loopback too here (see browser.ts), so the check works on a
 * machine with no other interface; where there is one, ICE may prefer it (same-host traffic still
 * goes over the loopback device).
 */
const MiB = 1024 * 1024;

function query(a: string, b: string): Record<string, string> {
  return { a, b, room: freshRoom('browser'), bytes: String(MiB), gum: '1' };
}

function expectDelivered(result: PageResult, label: string): void {
  expect(result.error, 'the page failed').toBeUndefined();
  expect(result.ok).toBe(true);
  expect(result.sentBytes).toBe(MiB);
  expect(result.receivedBytes).toBe(MiB);
  expect(result.receivedSha).toBe(result.sentSha);
  expect(result.gathered, 'loopback host candidates gathered').toContain('host 127.0.0.1');
  // The pair each connection has selected, as it reports it: its end is a host candidate of this
  // machine, with no STUN or TURN in between (a peer-reflexive remote end shows no address).
  const hostAddresses = (result.gathered ?? []).filter((c) => c.startsWith('host ')).map((c) => c.slice(5).replace(/^\[|\]$/g, ''));
  for (const pair of result.pairs ?? [undefined, undefined]) {
    expect(pair?.local?.type, 'selected local candidate').toBe('host');
    expect(hostAddresses).toContain(pair?.local?.address);
    expect(['host', 'prflx']).toContain(pair?.remote?.type);
  }
  const shown = (result.pairs ?? []).map((p, i) => `${'AB'[i]} ${p?.local?.address} -> ${p?.remote?.type} ${p?.remote?.address || '(hidden)'}`).join(', ');
  console.log(`[webrtc] chromium, ${label}: offer-to-open ${result.offerToOpenMs} ms, 1 MiB intact; selected pairs: ${shown}`);
}

describe.runIf(requireChromium())('headless Chromium: two RTCPeerConnections signaling through the client library', () => {
  it('open a data channel and move 1 MiB intact through one instance', async () => {
    const server = await startServer();
    expectDelivered(await runPage(query(server.url, server.url), 45_000), 'one instance');
  }, 60_000);

  describe.runIf(requireRedis())('on Redis', () => {
    const cluster = useRedisCluster();
    it('each peer on its own instance', async () => {
      const [s1, s2] = await cluster.servers(2);
      const result = await runPage(query(s1!.url, s2!.url), 45_000);
      expectDelivered(result, 'two instances');
      expect(new Set(result.serverIds).size, 'the two clients were on different instances').toBe(2);
    }, 60_000);
  });
});

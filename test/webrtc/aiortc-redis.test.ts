import { describe, expect, it } from 'vitest';
import { freshRoom } from '../helpers/harness.js';
import { useRedisCluster } from '../helpers/cluster.js';
import { requireRedis } from '../helpers/redis-process.js';
import { expectIntact, MiB, requireAiortc, transfer } from './aiortc.js';

/** Real WebRTC (aiortc) with each peer on its own instance, the relays crossing Redis. */
describe.runIf(requireAiortc() && requireRedis())('aiortc peers on two instances sharing Redis', () => {
  const cluster = useRedisCluster();
  const cases = [
    { compat: false, trickle: false },
    { compat: false, trickle: true },
    { compat: true, trickle: false },
    { compat: true, trickle: true },
  ];
  for (const { compat, trickle } of cases) {
    const label = `two instances, ${compat ? 'compat sleap-rtc' : 'plain protocol'}, ${trickle ? 'trickled' : 'SDP-embedded'} candidates`;
    it(`${label}: 1 MiB over a data channel`, async () => {
      const [s1, s2] = await cluster.servers(2, compat ? { compat: 'sleap-rtc' } : {});
      const t = await transfer({ offererUrl: s1!.url, answererUrl: s2!.url, room: freshRoom('rtc'), compat, trickle, bytes: MiB });
      expect(t.registered.offerer.type).toBe(compat ? 'registered_auth' : 'registered');
      expectIntact(t, label);
    }, 60_000);
  }
});

import { describe, expect, it } from 'vitest';
import { freshRoom, startServer } from '../helpers/harness.js';
import { expectIntact, MiB, requireAiortc, transfer } from './aiortc.js';

/**
 * Real WebRTC (aiortc) through one instance: the plain protocol, and compat mode as the SLEAP-RTC
 * Python clients speak it (`registered_auth`, `sender` in their relays); candidates inside the SDP
 * (what aiortc does), or trickled one `candidate` relay each.
 */
describe.runIf(requireAiortc())('aiortc peers through one instance', () => {
  for (const compat of [false, true]) {
    for (const trickle of [false, true]) {
      const label = `one instance, ${compat ? 'compat sleap-rtc' : 'plain protocol'}, ${trickle ? 'trickled' : 'SDP-embedded'} candidates`;
      it(`${label}: 1 MiB over a data channel`, async () => {
        const server = await startServer(compat ? { compat: 'sleap-rtc' } : {});
        const t = await transfer({ offererUrl: server.url, answererUrl: server.url, room: freshRoom('rtc'), compat, trickle, bytes: MiB });
        expect(t.registered.offerer.type).toBe(compat ? 'registered_auth' : 'registered');
        if (trickle) {
          for (const peer of [t.offerer, t.answerer]) expect(peer.events.find((e) => e.event === 'trickled')?.candidates).toBeGreaterThanOrEqual(1);
        }
        expectIntact(t, label);
      }, 60_000);
    }
  }
});

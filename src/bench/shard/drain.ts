import { nowUs, sleep } from '../clock.js';
import type { Counters } from '../recorder.js';
import type { ShardPeers } from './peers.js';

/**
 * After the traffic: waits at most `maxMs` for what is still in flight (relays sent and not
 * received, requests not answered), and less once a second passes with nothing arriving.
 */
export async function drain(peers: ShardPeers, counters: Counters, maxMs: number): Promise<void> {
  const deadline = nowUs() + maxMs * 1000;
  let last = -1;
  let lastChange = nowUs();
  while (nowUs() < deadline) {
    const inFlight = counters.relaysSent - counters.relaysReceived + peers.outstanding();
    if (inFlight <= 0) return;
    const progress = counters.relaysReceived + peers.answers();
    if (progress !== last) {
      last = progress;
      lastChange = nowUs();
    } else if (nowUs() - lastChange > 1_000_000) {
      return;
    }
    await sleep(20);
  }
}

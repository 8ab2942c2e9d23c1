import { describe, expect, it } from 'vitest';
import { freshRoom, registeredPeer, type SignalClient } from '../helpers/harness.js';
import { useRedisCluster } from '../helpers/cluster.js';
import { requireRedis } from '../helpers/redis-process.js';
import type { SignalingServer } from '../../src/server/signaling-server.js';

/** What became of one relay: it reached the target, or the sender was told why not. */
type Fate = 'delivered' | 'refused' | 'lost';

/**
 * Waits for the relay to reach `target` or for an error about it to reach `sender`. A relay that
 * does neither within the window is lost: the guarantee is "delivered or answered", never silence.
 */
async function fateOf(sender: SignalClient, targets: SignalClient[], nonce: string): Promise<Fate> {
  const arrived = targets.map((target) =>
    target
      .next((m) => m.type === 'peer_message' && (m.payload as { nonce?: string } | undefined)?.nonce === nonce, 3000)
      .then(() => 'delivered' as const),
  );
  const refused = sender
    .next((m) => m.type === 'error' && (m.code === 'PEER_NOT_FOUND' || m.code === 'SERVICE_UNAVAILABLE'), 3000)
    .then(() => 'refused' as const);
  const settled = await Promise.any([...arrived, refused]).catch(() => 'lost' as const);
  return settled;
}

/**
 * X and O on `from`; a new connection on `to` takes X over with X's session token. O relays to X
 * either once X's old socket has closed (4002), or `delayMs` after the takeover answered, while the
 * old socket may still be closing: then the old connection (before its close) or the new one must
 * get it, or O an error.
 */
async function takeoverTrial(from: SignalingServer, to: SignalingServer, trial: number, delayMs: number | 'after_close'): Promise<Fate> {
  const room = freshRoom('takeover');
  const x = await registeredPeer(from, { room_id: room, peer_id: 'x' });
  const o = await registeredPeer(from, { room_id: room, peer_id: 'o' });
  const fresh = await registeredPeer(to, { room_id: room, peer_id: 'x', session_token: x.registered.session_token });
  if (delayMs === 'after_close') expect((await x.client.closed).code).toBe(4002);
  else await new Promise((r) => setTimeout(r, delayMs));
  const nonce = `n${trial}`;
  o.client.send({ type: 'peer_message', to_peer_id: 'x', payload: { nonce } });
  const fate = await fateOf(o.client, delayMs === 'after_close' ? [fresh.client] : [x.client, fresh.client], nonce);
  await Promise.all([o.client.close(), fresh.client.close(), x.client.closed]);
  return fate;
}

describe.runIf(requireRedis())('a relay is delivered or answered, never lost (two instances on one Redis)', () => {
  const cluster = useRedisCluster();

  it('reaches the peer that took its id over on another instance, in every one of many trials', async () => {
    const [s1, s2] = await cluster.servers(2);
    const fates: Fate[] = [];
    for (let i = 0; i < 20; i++) fates.push(await takeoverTrial(s1!, s2!, i, 'after_close'));
    // The new connection is live and registered: the relay must reach it, not merely be answered.
    expect(fates.filter((f) => f !== 'delivered')).toEqual([]);
  }, 120_000);

  it('never loses a relay sent while the replaced socket is still closing', async () => {
    const [s1, s2] = await cluster.servers(2);
    const fates: Fate[] = [];
    for (let i = 0; i < 120; i++) fates.push(await takeoverTrial(s1!, s2!, i, i % 6));
    expect(fates.filter((f) => f === 'lost')).toEqual([]);
  }, 120_000);
});

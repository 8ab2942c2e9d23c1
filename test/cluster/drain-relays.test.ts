import { describe, expect, it } from 'vitest';
import { freshRoom, registeredPeer } from '../helpers/harness.js';
import { useRedisCluster } from '../helpers/cluster.js';
import { requireRedis } from '../helpers/redis-process.js';

describe.runIf(requireRedis())('relays sent just before a drain', () => {
  const cluster = useRedisCluster();

  it('are all delivered: the frames a drained connection had pending still go out (only relays)', async () => {
    const [s1, s2] = await cluster.servers(2, { drainTimeoutMs: 10 });
    const room = freshRoom();
    const b = await registeredPeer(s2!, { room_id: room, peer_id: 'drain-b' });
    const a = await registeredPeer(s1!, { room_id: room, peer_id: 'drain-a' });
    const COUNT = 150; // within the default burst of 200 frames
    // Cross-instance relays wait on Redis one after the other: most are still pending on s1 when
    // the drain closes a's socket.
    for (let i = 0; i < COUNT; i++) a.client.send({ type: 'peer_message', to_peer_id: 'drain-b', payload: i });
    // A register pending behind them must not be applied on the draining instance.
    a.client.send({ type: 'register', room_id: freshRoom(), peer_id: 'drain-a2' });
    const drained = s1!.drain();
    expect((await a.client.closed).code).toBe(1012);
    const got: number[] = [];
    for (let i = 0; i < COUNT; i++) got.push((await b.client.next('peer_message', 5000)).payload as number);
    expect(got).toEqual(Array.from({ length: COUNT }, (_, i) => i));
    await drained;
    expect(await s2!.state.getPeer('drain-a2')).toBeNull();
  });
});

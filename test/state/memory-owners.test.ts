import { describe, expect, it } from 'vitest';
import { MemoryBackend } from '../../src/state/memory/memory-backend.js';
import { MemoryStore } from '../../src/state/memory/memory-store.js';
import type { PeerRecord } from '../../src/state/state-backend.js';
import { NULL_SINK as sink } from '../helpers/null-sink.js';

describe('the memory backend\'s ownership of peer ids', () => {
  it('drops ownerships once they have expired, however many ids a subject went through', async () => {
    const store = new MemoryStore();
    const backend = new MemoryBackend(store);
    await backend.start({ serverId: 'm', host: '127.0.0.1', port: 0, version: 't', startedAt: 0 }, sink);
    const total = 5000;
    for (let i = 0; i < total; i++) {
      const record: PeerRecord = {
        peerId: `renamed-${i}`, roomId: 'r', role: 'peer', metadata: {}, connectedAt: i, serverId: 'm', connectionId: `m:${i}`,
        sessionToken: 't', subject: 'mallory', presence: false,
      };
      const outcome = await backend.register({
        record, current: null, wantAdmin: false, proof: { sessionToken: null, subject: 'mallory' }, newestWins: false, maxPeersPerRoom: 10, ownershipTtlMs: 1,
      });
      expect(outcome.ok).toBe(true);
      await backend.unregister(record.peerId, record.connectionId);
      if (i % 500 === 0) await new Promise((r) => setTimeout(r, 5));
    }
    // Expired ownerships were pruned as the map grew (it is never more than about twice its live size).
    expect(store.owners.size).toBeLessThan(total / 2);
  });
});

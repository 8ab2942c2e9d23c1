import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RedisBackend } from '../../src/state/redis/redis-backend.js';
import type { RoomListReply, JoinReply } from '../../src/state/redis/scripts.js';
import type { PeerRecord } from '../../src/state/state-backend.js';
import { NULL_SINK as sink } from '../helpers/null-sink.js';
import { RedisProcess, requireRedis } from '../helpers/redis-process.js';

/** What the scripts answered, by kind of listing, as an instance saw it. */
interface Seen {
  joins: string[];
  lists: string[];
  /** The peer ids each 'changes' reply to a join carried. */
  changed: string[][];
}

/** Records the kind of room listing each join and listing reply carried (a spy on the typed wrappers). */
function watchListings(b: RedisBackend): Seen {
  const seen: Seen = { joins: [], lists: [], changed: [] };
  const scripts = (b as unknown as { core: { scripts: Record<string, (...a: unknown[]) => Promise<unknown>> } }).core.scripts;
  for (const name of ['join', 'registerFresh'] as const) {
    const real = scripts[name]!.bind(scripts);
    scripts[name] = async (...args: unknown[]) => {
      const reply = (await real(...args)) as JoinReply | null;
      if (reply?.joined) seen.joins.push(reply.listing.kind);
      if (reply?.joined && reply.listing.kind === 'changes') seen.changed.push(reply.listing.changes.map((c) => c.peerId));
      return reply;
    };
  }
  const realList = scripts.listRoom!.bind(scripts);
  scripts.listRoom = async (...args: unknown[]) => {
    const reply = (await realList(...args)) as RoomListReply;
    seen.lists.push(reply.kind);
    return reply;
  };
  return seen;
}

describe.runIf(requireRedis())('room change log: an instance with an older copy gets only what changed (Redis backend)', () => {
  const redis = new RedisProcess();
  let seq = 0;
  beforeAll(() => redis.start());
  afterAll(() => redis.stop());

  async function pair(): Promise<[RedisBackend, RedisBackend]> {
    const prefix = `changes${++seq}:`;
    const a = new RedisBackend({ url: redis.url, prefix });
    const b = new RedisBackend({ url: redis.url, prefix });
    await a.start({ serverId: `ca${seq}`, host: '127.0.0.1', port: 0, version: 't', startedAt: 0 }, sink);
    await b.start({ serverId: `cb${seq}`, host: '127.0.0.1', port: 0, version: 't', startedAt: 0 }, sink);
    return [a, b];
  }

  let n = 0;
  const record = (b: RedisBackend, peerId: string, roomId: string, metadata = {}): PeerRecord => {
    const serverId = (b as unknown as { instance: { serverId: string } }).instance.serverId;
    return {
      peerId, roomId, role: 'worker', metadata, connectedAt: 1_000 + ++n, serverId, connectionId: `${serverId}:${n}`,
      sessionToken: `t${n}`, subject: null, presence: false,
    };
  };
  const join = async (b: RedisBackend, rec: PeerRecord) => {
    const outcome = await b.register({ record: rec, current: null, wantAdmin: false, proof: { sessionToken: null, subject: null }, newestWins: false, maxPeersPerRoom: 1000 });
    if (!outcome.ok) throw new Error(outcome.code);
    return outcome;
  };
  const ids = (peers: readonly PeerRecord[]) => peers.map((p) => p.peerId);

  it('applies joins, updates and leaves made elsewhere to the copy, in joins and in listings', async () => {
    const [a, b] = await pair();
    const seenA = watchListings(a);
    try {
      const room = 'r';
      await join(a, record(a, 'a1', room));
      const b1 = record(b, 'b1', room);
      const b2 = record(b, 'b2', room);
      await join(b, b1);
      await join(b, b2);
      expect(await b.updatePeer({ ...b1, metadata: { tags: ['cpu'] } })).toBe(true);
      await b.unregister('b2', b2.connectionId);
      const outcome = await join(a, record(a, 'a2', room));
      expect(ids(outcome.roomPeers)).toEqual(['a1', 'b1']);
      expect(outcome.roomPeers[1]!.metadata).toEqual({ tags: ['cpu'] });
      // a's copy was of the room at a1's join: the join brought only b1 and b2 (b2 as gone).
      expect(seenA.joins).toEqual(['full', 'changes']);

      const b3 = record(b, 'b3', room);
      await join(b, b3);
      expect(ids(await a.listRoom(room))).toEqual(['a1', 'b1', 'a2', 'b3']);
      expect(await a.listRoom(room)).toBe(await a.listRoom(room));
      expect(seenA.lists).toEqual(['changes', 'same', 'same']);
      // And b's view is the same room.
      expect(ids(await b.listRoom(room))).toEqual(['a1', 'b1', 'a2', 'b3']);
    } finally {
      await a.stop();
      await b.stop();
    }
  });

  it('leaves its own joins out of what it is sent, and still lists them', async () => {
    const [a, b] = await pair();
    const seenA = watchListings(a);
    try {
      const room = 'own';
      await join(a, record(a, 'first', room));
      // b joins: a's copy is behind. Then joins of a in flight together, all sent against that copy.
      await join(b, record(b, 'b', room));
      const recs = Array.from({ length: 10 }, (_, i) => record(a, `a${i}`, room));
      const outcomes = await Promise.all(recs.map((r) => join(a, r)));
      const last = outcomes[9]!;
      // The last join of a sees a's earlier joins (applied to its copy by their own replies), though Redis did not send them.
      expect(ids(last.roomPeers).sort()).toEqual(['a0', 'a1', 'a2', 'a3', 'a4', 'a5', 'a6', 'a7', 'a8', 'b', 'first']);
      expect(ids(await a.listRoom(room)).sort()).toEqual(['a0', 'a1', 'a2', 'a3', 'a4', 'a5', 'a6', 'a7', 'a8', 'a9', 'b', 'first']);
      // No join of a carried the whole room after the first, and none was sent a's own joins back.
      expect(seenA.joins.slice(1).every((k) => k !== 'full')).toBe(true);
      expect(seenA.changed.flat().filter((id) => id !== 'b')).toEqual([]);
      expect(seenA.changed.length).toBe(10);
    } finally {
      await a.stop();
      await b.stop();
    }
  });

  it('a burst of joins sent against one copy gets what changed elsewhere once, not once per join', async () => {
    const [a, b] = await pair();
    const seenA = watchListings(a);
    try {
      const room = 'burst';
      await join(a, record(a, 'first', room));
      for (const id of ['b1', 'b2', 'b3']) await join(b, record(b, id, room));
      const recs = Array.from({ length: 10 }, (_, i) => record(a, `a${i}`, room));
      const outcomes = await Promise.all(recs.map((r) => join(a, r)));
      // The first reply brings b1..b3; the later ones start after a's own earlier join, whose reply came first.
      expect(seenA.changed.flat().sort()).toEqual(['b1', 'b2', 'b3']);
      for (const [i, outcome] of outcomes.entries()) {
        expect(ids(outcome.roomPeers).sort()).toEqual(['b1', 'b2', 'b3', 'first', ...recs.slice(0, i).map((r) => r.peerId)].sort());
      }
    } finally {
      await a.stop();
      await b.stop();
    }
  });

  it('a join that ran but whose reply was lost drops the copy: the next join gets the whole room', async () => {
    const [a, b] = await pair();
    const seenA = watchListings(a);
    try {
      const room = 'lost';
      await join(a, record(a, 'first', room));
      await join(b, record(b, 'b1', room));
      // The next join of a runs in Redis, but its caller hears a failure (as after a timeout).
      const scripts = (a as unknown as { core: { scripts: Record<string, (...x: unknown[]) => Promise<unknown>> } }).core.scripts;
      const spied = scripts.registerFresh!;
      scripts.registerFresh = async (...args: unknown[]) => {
        await spied(...args);
        throw new Error('reply lost');
      };
      await expect(join(a, record(a, 'x', room))).rejects.toThrow('reply lost');
      scripts.registerFresh = spied;
      const outcome = await join(a, record(a, 'y', room));
      expect(ids(outcome.roomPeers).sort()).toEqual(['b1', 'first', 'x']);
      expect(seenA.joins.at(-1)).toBe('full');
    } finally {
      await a.stop();
      await b.stop();
    }
  });

  it('without a copy of the room, one join asks for the whole room and the others wait for it', async () => {
    const [a, b] = await pair();
    const seenA = watchListings(a);
    try {
      const room = 'gate';
      await join(b, record(b, 'b-first', room));
      const recs = Array.from({ length: 8 }, (_, i) => record(a, `g${i}`, room));
      const outcomes = await Promise.all(recs.map((r) => join(a, r)));
      expect(seenA.joins.filter((k) => k === 'full')).toEqual(['full']);
      // Every one of them still sees the room as it was when it joined.
      for (const outcome of outcomes) expect(ids(outcome.roomPeers)).toContain('b-first');
      expect(ids(await a.listRoom(room)).sort()).toEqual(['b-first', ...recs.map((r) => r.peerId)].sort());
    } finally {
      await a.stop();
      await b.stop();
    }
  });

  it('falls back to the whole room when more changed than the log keeps', async () => {
    const [a, b] = await pair();
    const seenA = watchListings(a);
    try {
      const room = 'big';
      await join(a, record(a, 'a1', room));
      // 300 changes elsewhere: more than the 256 the log keeps.
      for (let i = 0; i < 200; i++) {
        const rec = record(b, `b${i}`, room);
        await join(b, rec);
        if (i % 2 === 1) await b.unregister(rec.peerId, rec.connectionId);
      }
      const outcome = await join(a, record(a, 'a2', room));
      expect(outcome.roomPeers.length).toBe(1 + 100);
      expect(seenA.joins).toEqual(['full', 'full']);
    } finally {
      await a.stop();
      await b.stop();
    }
  });

  it('does not carry a copy over to a room made again under the same id', async () => {
    const [a, b] = await pair();
    try {
      const room = 'again';
      const a1 = record(a, 'a1', room);
      await join(a, a1);
      const b1 = record(b, 'b1', room);
      await join(b, b1);
      // The room's records expire: a new room of the same id begins.
      const redisClient = a.commandClient();
      await redisClient.del(...a.keys.room(room));
      const outcome = await join(b, record(b, 'b2', room));
      expect(ids(outcome.roomPeers)).toEqual([]);
      expect(ids(await a.listRoom(room))).toEqual(['b2']);
    } finally {
      await a.stop();
      await b.stop();
    }
  });
});

import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { MemoryBackend } from '../../src/state/memory/memory-backend.js';
import { MemoryStore } from '../../src/state/memory/memory-store.js';
import { RedisBackend } from '../../src/state/redis/redis-backend.js';
import type { BusSink, ControlMessage, OutboundFrame, PeerRecord, RefusalReason, RegisterOutcome, RegisterRequest, RelayOrigin, StateBackend } from '../../src/state/state-backend.js';
import { Redis } from 'ioredis';
import { deliverEnvelope } from '../../src/state/redis/bus-envelope.js';
import { KeySpace } from '../../src/state/redis/key-space.js';
import { RedisProcess, requireRedis } from '../helpers/redis-process.js';
import { deleteRoomWithPeers, kickPeer } from '../../src/admin/peer-removal.js';

/** The sender of relays in these tests: a connection of no instance here. */
const ORIGIN: RelayOrigin = { connectionId: 'sender-instance:1', requestType: 'peer_message' };

/** Records what a backend hands to its instance. */
class RecordingSink implements BusSink {
  readonly delivered: { peerId: string; frame: string }[] = [];
  readonly presenceEvents: { roomId: string; about: string; frame: string }[] = [];
  readonly controls: ControlMessage[] = [];
  readonly refusals: { origin: RelayOrigin; targetPeerId: string; reason: RefusalReason }[] = [];
  readonly localPeers = new Set<string>();
  deliver(peerId: string, _roomId: string, frame: OutboundFrame): boolean {
    if (!this.localPeers.has(peerId)) return false;
    this.delivered.push({ peerId, frame: frame.toString() });
    return true;
  }
  refused(origin: RelayOrigin, targetPeerId: string, reason: RefusalReason): void {
    this.refusals.push({ origin, targetPeerId, reason });
  }
  presence(roomId: string, about: string, frame: OutboundFrame): void {
    this.presenceEvents.push({ roomId, about, frame: frame.toString() });
  }
  control(message: ControlMessage): void {
    this.controls.push(message);
  }
  instanceStats() {
    return { connections: this.localPeers.size, peers: this.localPeers.size, relayed: 0 };
  }
}

interface Instance {
  backend: StateBackend;
  sink: RecordingSink;
  serverId: string;
}

interface Fixture {
  make(): Promise<[Instance, Instance]>;
  cleanup(): Promise<void>;
}

let seq = 0;
function record(instance: Instance, peerId: string, roomId: string, extra: Partial<PeerRecord> = {}): PeerRecord {
  return {
    peerId,
    roomId,
    role: 'worker',
    metadata: { tags: ['gpu'] },
    connectedAt: Date.now() / 1000 + seq++ / 1000,
    serverId: instance.serverId,
    connectionId: `${instance.serverId}:${++seq}`,
    sessionToken: `session-${seq}`,
    subject: null,
    presence: false,
    ...extra,
  };
}

function request(rec: PeerRecord, extra: Partial<RegisterRequest> = {}): RegisterRequest {
  return {
    record: rec,
    current: null,
    wantAdmin: false,
    proof: { sessionToken: null, subject: null },
    newestWins: false,
    maxPeersPerRoom: 1000,
    ...extra,
  };
}

/** A record as read back from shared state, which need not keep the session token (Redis keeps only its hash). */
const readBack = (r: PeerRecord) => ({ ...r, sessionToken: expect.any(String) as unknown as string });

async function until(check: () => boolean, ms = 2000): Promise<void> {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 10));
  }
}

function contract(name: string, fixture: () => Fixture) {
  describe(`state backend contract: ${name}`, () => {
    let fx: Fixture;
    let a: Instance;
    let b: Instance;
    let room: string;

    beforeAll(() => {
      fx = fixture();
    });
    afterEach(async () => {
      await a?.backend.stop();
      await b?.backend.stop();
      await fx.cleanup();
    });
    const setup = async () => {
      [a, b] = await fx.make();
      room = `room-${++seq}`;
    };

    it('registers a peer, finds it, lists the room in discovery order', async () => {
      await setup();
      const r1 = record(a, 'p1', room);
      const r2 = record(b, 'p2', room);
      const o1 = await a.backend.register(request(r1));
      const o2 = await b.backend.register(request(r2));
      expect(o1.ok && o2.ok).toBe(true);
      if (!o2.ok) return;
      expect(o2.roomPeers.map((p) => p.peerId)).toEqual(['p1']);
      expect(o2.prior).toBeNull();
      expect(await a.backend.getPeer('p2')).toEqual(readBack(r2));
      expect((await b.backend.listRoom(room)).map((p) => p.peerId)).toEqual(['p1', 'p2']);
      expect(await a.backend.getPeer('nobody')).toBeNull();
      expect(await a.backend.listRoom('no-such-room')).toEqual([]);
    });

    it('tells a join whether any other peer of the room listens to presence', async () => {
      await setup();
      const listening = async (o: Promise<RegisterOutcome>) => {
        const outcome = await o;
        return outcome.ok ? outcome.presenceAudience : 'refused';
      };
      // A subscriber is not its own audience; a peer that does not subscribe is nobody's.
      const w1 = record(a, 'w1', room, { presence: true });
      expect(await listening(a.backend.register(request(w1)))).toBe(false);
      expect(await listening(b.backend.register(request(record(b, 'w2', room))))).toBe(true);
      expect(await listening(b.backend.register(request(record(b, 'x1', `${room}-other`))))).toBe(false);
      expect(await listening(a.backend.register(request(record(a, 'x2', `${room}-other`))))).toBe(false);
      await a.backend.unregister('w1', w1.connectionId);
      expect(await listening(a.backend.register(request(record(a, 'w3', room))))).toBe(false);
    });

    it('refuses a live peer id to another connection without proof, allows it with the session token', async () => {
      await setup();
      const first = record(a, 'dup', room);
      expect((await a.backend.register(request(first))).ok).toBe(true);
      const thief = record(b, 'dup', room);
      expect(await b.backend.register(request(thief))).toEqual({ ok: false, code: 'PEER_ID_TAKEN' });
      expect((await a.backend.getPeer('dup'))?.connectionId).toBe(first.connectionId);
      const owner = record(b, 'dup', room, { role: 'client' });
      const taken = await b.backend.register(request(owner, { proof: { sessionToken: first.sessionToken, subject: null } }));
      expect(taken.ok).toBe(true);
      if (!taken.ok) return;
      expect(taken.prior?.connectionId).toBe(first.connectionId);
      expect(taken.record.sessionToken).toBe(first.sessionToken);
      expect(taken.record.connectedAt).toBe(first.connectedAt);
      expect((await a.backend.getPeer('dup'))?.serverId).toBe(b.serverId);
      // The old connection's late close changes nothing.
      expect(await a.backend.unregister('dup', first.connectionId)).toBeNull();
      expect((await a.backend.getPeer('dup'))?.connectionId).toBe(owner.connectionId);
    });

    it('lets the newest registration win in compat mode', async () => {
      await setup();
      const first = record(a, 'compat', room);
      await a.backend.register(request(first));
      const second = record(b, 'compat', room);
      const outcome = await b.backend.register(request(second, { newestWins: true }));
      expect(outcome.ok).toBe(true);
      expect((await a.backend.getPeer('compat'))?.connectionId).toBe(second.connectionId);
    });

    it('enforces the room limit, counting the peer\'s own slot as free', async () => {
      await setup();
      const max = { maxPeersPerRoom: 2 };
      const r1 = record(a, 'f1', room);
      const r2 = record(a, 'f2', room);
      expect((await a.backend.register(request(r1, max))).ok).toBe(true);
      expect((await a.backend.register(request(r2, max))).ok).toBe(true);
      expect(await b.backend.register(request(record(b, 'f3', room), max))).toEqual({ ok: false, code: 'ROOM_FULL' });
      // In place: same id, same connection.
      const again = await a.backend.register(request({ ...r1, role: 'client' }, { ...max, current: r1 }));
      expect(again.ok).toBe(true);
      // Rename inside the full room.
      const renamed = { ...r2, peerId: 'f2-renamed' };
      const rename = await a.backend.register(request(renamed, { ...max, current: r2 }));
      expect(rename.ok).toBe(true);
      if (!rename.ok) return;
      expect(rename.vacated?.peerId).toBe('f2');
      expect(await a.backend.getPeer('f2')).toBeNull();
      expect((await a.backend.listRoom(room)).map((p) => p.peerId).sort()).toEqual(['f1', 'f2-renamed']);
      // ROOM_FULL wins over PEER_ID_TAKEN.
      expect(await b.backend.register(request(record(b, 'f1', room), max))).toEqual({ ok: false, code: 'ROOM_FULL' });
    });

    it('keeps session token and connected_at in place, and moves between rooms', async () => {
      await setup();
      const r = record(a, 'mover', room);
      await a.backend.register(request(r));
      const inPlace = await a.backend.register(request({ ...r, role: 'client', sessionToken: 'fresh', connectedAt: 1 }, { current: r }));
      expect(inPlace.ok && inPlace.record.sessionToken).toBe(r.sessionToken);
      expect(inPlace.ok && inPlace.record.connectedAt).toBe(r.connectedAt);
      expect(inPlace.ok && inPlace.prior?.role).toBe('worker');
      const other = `${room}-other`;
      const moved = await a.backend.register(request({ ...r, roomId: other, sessionToken: 'moved', connectedAt: 2 }, { current: r }));
      expect(moved.ok).toBe(true);
      if (!moved.ok) return;
      expect(moved.record.sessionToken).toBe('moved');
      expect(moved.prior?.roomId).toBe(room);
      expect(await a.backend.listRoom(room)).toEqual([]);
      expect((await a.backend.listRoom(other)).map((p) => p.peerId)).toEqual(['mover']);
      expect((await b.backend.getPeer('mover'))?.roomId).toBe(other);
    });

    it('gives the admin seat to the first asker and reports conflicts', async () => {
      await setup();
      const admin = record(a, 'admin', room);
      const o1 = await a.backend.register(request(admin, { wantAdmin: true }));
      expect(o1.ok && o1.adminPeerId).toBe('admin');
      const o2 = await b.backend.register(request(record(b, 'pretender', room), { wantAdmin: true }));
      expect(o2.ok && o2.adminConflict).toBe('admin');
      expect(o2.ok && o2.adminPeerId).toBe('admin');
      await a.backend.unregister('admin', admin.connectionId);
      const o3 = await b.backend.register(request(record(b, 'next', room), { wantAdmin: true }));
      expect(o3.ok && o3.adminPeerId).toBe('next');
      expect(o3.ok && o3.adminConflict).toBeNull();
    });

    it('unregisters only for the owning connection', async () => {
      await setup();
      const r = record(a, 'owned', room);
      await a.backend.register(request(r));
      expect(await a.backend.unregister('owned', 'someone-else:1')).toBeNull();
      expect(await a.backend.unregister('owned', r.connectionId)).toEqual(readBack(r));
      expect(await a.backend.getPeer('owned')).toBeNull();
      expect(await a.backend.listRoom(room)).toEqual([]);
      expect(await a.backend.unregister('owned', r.connectionId)).toBeNull();
    });

    it('updates an owned record only', async () => {
      await setup();
      const r = record(a, 'upd', room);
      await a.backend.register(request(r));
      expect(await a.backend.updatePeer({ ...r, metadata: { tags: ['cpu'] } })).toBe(true);
      expect((await b.backend.getPeer('upd'))?.metadata).toEqual({ tags: ['cpu'] });
      expect(await a.backend.updatePeer({ ...r, connectionId: 'x:1' })).toBe(false);
    });

    it('routes to the instance holding the target, within the room only', async () => {
      await setup();
      const target = record(b, 'target', room);
      await b.backend.register(request(target));
      b.sink.localPeers.add('target');
      await a.backend.register(request(record(a, 'elsewhere', `${room}-x`)));
      expect(await a.backend.route(room, 'target', '{"type":"x"}', ORIGIN)).toBe('delivered');
      await until(() => b.sink.delivered.length === 1);
      expect(b.sink.delivered[0]).toEqual({ peerId: 'target', frame: '{"type":"x"}' });
      expect(await a.backend.route(room, 'ghost', '{}', ORIGIN)).toBe('not_found');
      expect(await a.backend.route(`${room}-x`, 'target', '{}', ORIGIN)).toBe('not_in_room');
    });

    it('answers the sender when the instance holding the target has no open connection for it', async () => {
      await setup();
      // b holds 'closing' in shared state, but its socket is gone (b's sink does not have it).
      await b.backend.register(request(record(b, 'closing', room)));
      const origin: RelayOrigin = { connectionId: `${a.serverId}:99`, requestType: 'offer' };
      const result = await a.backend.route(room, 'closing', '{"type":"offer"}', origin);
      // Known at once (one process), or told to the sender's instance after the bus miss.
      if (result === 'delivered') await until(() => a.sink.refusals.length === 1);
      else expect(result).toBe('not_found');
      expect(a.sink.refusals).toEqual(result === 'delivered' ? [{ origin, targetPeerId: 'closing', reason: 'not_found' }] : []);
      expect(b.sink.delivered).toEqual([]);
    });

    it('routes relays issued together (one tick), each with its own outcome and its frame intact', async () => {
      await setup();
      for (const id of ['t1', 't2']) {
        await b.backend.register(request(record(b, id, room)));
        b.sink.localPeers.add(id);
      }
      await a.backend.register(request(record(a, 't3', room)));
      a.sink.localPeers.add('t3');
      await b.backend.register(request(record(b, 'away', `${room}-x`)));
      b.sink.localPeers.add('away');
      // Multi-byte characters: a batch on the bus is cut by byte lengths.
      const frame = (n: number) => `{"type":"peer_message","payload":"ü€😀 ${n}"}`;
      const results = await Promise.all([
        a.backend.route(room, 't1', frame(1), ORIGIN),
        a.backend.route(room, 'ghost', frame(2), ORIGIN),
        a.backend.route(room, 't2', frame(3), ORIGIN),
        a.backend.route(room, 'away', frame(4), ORIGIN),
        a.backend.route(room, 't1', frame(5), ORIGIN),
        a.backend.route(room, 't3', frame(6), ORIGIN),
        a.backend.route(`${room}-x`, 'away', frame(7), ORIGIN),
      ]);
      expect(results).toEqual(['delivered', 'not_found', 'delivered', 'not_in_room', 'delivered', 'delivered', 'delivered']);
      await until(() => b.sink.delivered.length === 4 && a.sink.delivered.length === 1);
      expect(b.sink.delivered).toEqual([
        { peerId: 't1', frame: frame(1) },
        { peerId: 't2', frame: frame(3) },
        { peerId: 't1', frame: frame(5) },
        { peerId: 'away', frame: frame(7) },
      ]);
      expect(a.sink.delivered).toEqual([{ peerId: 't3', frame: frame(6) }]);
    });

    it('fans presence out to every instance and control to one', async () => {
      await setup();
      await a.backend.register(request(record(a, 'sa', room, { presence: true })));
      await b.backend.register(request(record(b, 'sb', room, { presence: true })));
      await a.backend.publishPresence(room, 'conn-about', '{"type":"peer_joined"}');
      await until(() => a.sink.presenceEvents.length === 1 && b.sink.presenceEvents.length === 1);
      expect(b.sink.presenceEvents[0]).toEqual({ roomId: room, about: 'conn-about', frame: '{"type":"peer_joined"}' });
      const close: ControlMessage = { kind: 'close', peerId: 'sb', connectionId: 'c', code: 4002, reason: 'r', leftReason: null };
      await a.backend.sendControl(b.serverId, close);
      await until(() => b.sink.controls.length === 1);
      expect(b.sink.controls[0]).toEqual(close);
      expect(a.sink.controls).toEqual([]);
    });

    it('sendControl says whether the instance heard it: its own, another live one, or one that is gone', async () => {
      await setup();
      const close: ControlMessage = { kind: 'close', peerId: 'x', connectionId: 'c', code: 1000, reason: 'r', leftReason: 'kicked' };
      expect(await a.backend.sendControl(a.serverId, close)).toBe(true);
      expect(await a.backend.sendControl(b.serverId, close)).toBe(true);
      expect(await a.backend.sendControl('no-such-instance', close)).toBe(false);
      await until(() => b.sink.controls.length === 1);
      expect(a.sink.controls).toEqual([close]);
    });

    it('removePeer takes a peer of another instance out of shared state, only where its connection still holds it', async () => {
      await setup();
      const held = record(b, 'rm', room);
      await b.backend.register(request(held));
      // A stale connection id removes nothing.
      expect(await a.backend.removePeer({ ...held, connectionId: `${b.serverId}:999999` })).toBeNull();
      expect(await a.backend.getPeer('rm')).not.toBeNull();
      expect(await a.backend.removePeer(held)).toEqual(readBack(held));
      expect(await a.backend.getPeer('rm')).toBeNull();
      expect((await b.backend.listRoom(room)).map((p) => p.peerId)).toEqual([]);
      // The holder's own unregister afterwards finds nothing left to announce.
      expect(await b.backend.unregister('rm', held.connectionId)).toBeNull();
      // The id is free again for anyone.
      const next = record(a, 'rm', room);
      expect((await a.backend.register(request(next))).ok).toBe(true);
    });

    it('deleteRoom drops the created-room record, and the room once nobody is in it', async () => {
      await setup();
      const future = Date.now() + 3_600_000;
      expect(await a.backend.createRoom({ roomId: room, tokenHash: 'h', createdAt: Date.now(), expiresAt: future, createdBy: null })).toBe(true);
      const stay = record(b, 'stays', room);
      await b.backend.register(request(stay));
      expect(await a.backend.deleteRoom(room)).toBe(false);
      expect(await a.backend.getRoom(room)).toBeNull();
      expect((await a.backend.listRooms()).map((r) => r.roomId)).toContain(room);
      await b.backend.unregister('stays', stay.connectionId);
      expect(await a.backend.deleteRoom(room)).toBe(true);
      expect((await a.backend.listRooms()).map((r) => r.roomId)).not.toContain(room);
    });

    it('kicks and deletes rooms through the one admin path: records first, then `kicked` to the room, then the close order', async () => {
      await setup();
      const watcher = record(a, 'kw', room, { presence: true });
      await a.backend.register(request(watcher));
      const target = record(b, 'kt', room);
      await b.backend.register(request(target));
      const kicked = await kickPeer(a.backend, 'kt', 'bye');
      expect(kicked).toEqual({ peerId: 'kt', roomId: room, serverId: b.serverId, connectionId: target.connectionId, reason: 'bye', instanceNotified: true });
      expect(await a.backend.getPeer('kt')).toBeNull();
      await until(() => b.sink.controls.length === 1);
      expect(b.sink.controls[0]).toEqual({ kind: 'close', peerId: 'kt', connectionId: target.connectionId, code: 1000, reason: 'bye', leftReason: 'kicked' });
      await until(() => a.sink.presenceEvents.length === 1);
      expect(JSON.parse(a.sink.presenceEvents[0]!.frame)).toEqual({ type: 'peer_left', peer_id: 'kt', reason: 'kicked' });
      expect(await kickPeer(a.backend, 'kt')).toBeNull();

      // A peer that moved to another room since the caller read it (and checked its access to that
      // room) is not followed there.
      const mover = record(b, 'km', room);
      await b.backend.register(request(mover));
      const moved = record(b, 'km', `${room}-elsewhere`);
      expect((await b.backend.register(request(moved, { proof: { sessionToken: mover.sessionToken, subject: null } }))).ok).toBe(true);
      expect(await kickPeer(a.backend, 'km', 'bye', mover)).toBeNull();
      expect((await a.backend.getPeer('km'))?.roomId).toBe(`${room}-elsewhere`);
      await b.backend.unregister('km', moved.connectionId);

      const other = record(b, 'ko', room);
      await b.backend.register(request(other));
      const deleted = await deleteRoomWithPeers(b.backend, room, 'closing');
      expect(deleted?.peers.map((p) => p.peerId).sort()).toEqual(['ko', 'kw']);
      expect(deleted?.roomRemoved).toBe(true);
      expect(await b.backend.listRoom(room)).toEqual([]);
      expect(await deleteRoomWithPeers(b.backend, room)).toBeNull();
    });

    it('lists rooms with peers (discovery order, admin seat, times) and live created rooms, not rooms everyone left', async () => {
      await setup();
      const started = Date.now();
      const r1 = record(a, 'l1', room);
      const r2 = record(b, 'l2', room, { role: 'client' });
      await a.backend.register(request(r1, { wantAdmin: true }));
      await b.backend.register(request(r2));
      const left = record(b, 'l3', `${room}-left`);
      await b.backend.register(request(left));
      await b.backend.unregister('l3', left.connectionId);
      const created = { roomId: `${room}-created`, tokenHash: 'h', createdAt: started, expiresAt: started + 60_000, createdBy: 'jwt:iss:alice' };
      expect(await a.backend.createRoom(created)).toBe(true);
      const expired = { ...created, roomId: `${room}-expired`, expiresAt: Date.now() + 50 };
      expect(await a.backend.createRoom(expired)).toBe(true);
      await new Promise((r) => setTimeout(r, 80));

      const listed = new Map((await b.backend.listRooms()).map((e) => [e.roomId, e]));
      expect([...listed.keys()].filter((id) => id.startsWith(room)).sort()).toEqual([room, created.roomId]);
      const entry = listed.get(room)!;
      expect(entry).toMatchObject({ roomId: room, admin: 'l1', createdRoom: null });
      expect(entry.peers).toEqual([readBack(r1), readBack(r2)]);
      expect(entry.createdAt).toBeGreaterThanOrEqual(started);
      expect(entry.lastUsed).toBeGreaterThanOrEqual(entry.createdAt!);
      expect(entry.lastUsed).toBeLessThanOrEqual(Date.now());
      // Created ahead of use and nobody in it yet: listed with its record's times, never its token hash.
      expect(listed.get(created.roomId)).toMatchObject({ peers: [], admin: null, createdRoom: { createdAt: created.createdAt, expiresAt: created.expiresAt } });
      expect(JSON.stringify(listed.get(created.roomId))).not.toContain('tokenHash');
      // A peer joining a created room keeps its record's times with it.
      await a.backend.register(request(record(a, 'l4', created.roomId)));
      expect((await a.backend.listRooms()).find((e) => e.roomId === created.roomId)).toMatchObject({
        peers: [expect.objectContaining({ peerId: 'l4' })],
        createdRoom: { createdAt: created.createdAt, expiresAt: created.expiresAt },
      });
    });

    it('counts active rooms and their sizes', async () => {
      await setup();
      await a.backend.register(request(record(a, 'c1', room)));
      await a.backend.register(request(record(a, 'c2', room)));
      await b.backend.register(request(record(b, 'c3', `${room}-2`)));
      const census = await a.backend.census();
      expect(census.rooms).toBeGreaterThanOrEqual(2);
      expect([...census.sizes]).toEqual(expect.arrayContaining([2, 1]));
    });
  });
}

contract('memory', () => {
  return {
    async make() {
      const store = new MemoryStore();
      const pair = ['mem-a', 'mem-b'].map((serverId) => ({ backend: new MemoryBackend(store), sink: new RecordingSink(), serverId }));
      for (const i of pair) await i.backend.start({ serverId: i.serverId, host: '127.0.0.1', port: 0, version: 't', startedAt: 0 }, i.sink);
      return pair as unknown as [Instance, Instance];
    },
    async cleanup() {},
  };
});

const redisReady = requireRedis();
describe.runIf(redisReady)('redis', () => {
  it('sends the relays of one tick into one room as one routing call', async () => {
    const prefix = `batch${++prefixSeq}:`;
    const ops: string[] = [];
    const observer = { operation: (name: string) => ops.push(name), failure() {}, dropped() {}, event() {} };
    const sink = new RecordingSink();
    const [a, b] = [new RedisBackend({ url: redis.url, prefix }), new RedisBackend({ url: redis.url, prefix })];
    try {
      await a.start({ serverId: 'ba', host: '127.0.0.1', port: 0, version: 't', startedAt: 0 }, new RecordingSink(), observer);
      await b.start({ serverId: 'bb', host: '127.0.0.1', port: 0, version: 't', startedAt: 0 }, sink);
      const peer = (id: string, roomId: string): PeerRecord => ({
        peerId: id, roomId, role: 'client', metadata: {}, connectedAt: 1, serverId: 'bb', connectionId: `bb:${id}`, sessionToken: 's', subject: null, presence: false,
      });
      for (const [id, roomId] of [['p1', 'r1'], ['p2', 'r1'], ['p3', 'r2']] as const) {
        await b.register({ record: peer(id, roomId), current: null, wantAdmin: false, proof: { sessionToken: null, subject: null }, newestWins: false, maxPeersPerRoom: 10 });
        sink.localPeers.add(id);
      }
      ops.length = 0;
      const results = await Promise.all([a.route('r1', 'p1', '{"n":1}', ORIGIN), a.route('r1', 'p2', '{"n":2}', ORIGIN), a.route('r2', 'p3', '{"n":3}', ORIGIN), a.route('r1', 'p1', '{"n":4}', ORIGIN)]);
      expect(results).toEqual(['delivered', 'delivered', 'delivered', 'delivered']);
      // Room r1's three relays in one call, r2's one in another.
      expect(ops).toEqual(['route', 'route']);
      await until(() => sink.delivered.length === 4);
      expect(sink.delivered.map((d) => d.frame).sort()).toEqual(['{"n":1}', '{"n":2}', '{"n":3}', '{"n":4}']);
      // One after another (awaited), each relay is its own call.
      ops.length = 0;
      for (let i = 0; i < 3; i++) expect(await a.route('r1', 'p2', '{}', ORIGIN)).toBe('delivered');
      expect(ops).toEqual(['route', 'route', 'route']);
    } finally {
      await a.stop();
      await b.stop();
    }
  });

  it('routes a relay once more when its target was taken over elsewhere after it was routed', async () => {
    const prefix = `reroute${++prefixSeq}:`;
    const [sa, sb] = [new RecordingSink(), new RecordingSink()];
    const [a, b] = [new RedisBackend({ url: redis.url, prefix }), new RedisBackend({ url: redis.url, prefix })];
    const raw = new Redis(redis.url);
    try {
      await a.start({ serverId: 'ra', host: '127.0.0.1', port: 0, version: 't', startedAt: 0 }, sa);
      await b.start({ serverId: 'rb', host: '127.0.0.1', port: 0, version: 't', startedAt: 0 }, sb);
      const peer = (serverId: string, n: number): PeerRecord => ({
        peerId: 'x', roomId: 'r', role: 'client', metadata: {}, connectedAt: 1, serverId, connectionId: `${serverId}:${n}`, sessionToken: 's', subject: null, presence: false,
      });
      const base = { current: null, wantAdmin: false, newestWins: false, maxPeersPerRoom: 10 };
      await b.register({ ...base, record: peer('rb', 1), proof: { sessionToken: null, subject: null } });
      // x moves to a (its session token); the relay below was routed to b before that.
      expect((await a.register({ ...base, record: peer('ra', 2), proof: { sessionToken: 's', subject: null } })).ok).toBe(true);
      sa.localPeers.add('x');
      const origin: RelayOrigin = { connectionId: 'rb:7', requestType: 'peer_message' };
      await raw.publish(new KeySpace(prefix).channel('rb'), deliverEnvelope({ peerId: 'x', roomId: 'r', origin, reroutes: 0 }, '{"n":1}'));
      await until(() => sa.delivered.length === 1);
      expect(sa.delivered).toEqual([{ peerId: 'x', frame: '{"n":1}' }]);
      // A relay that already went round once is answered, not routed again.
      await raw.publish(new KeySpace(prefix).channel('rb'), deliverEnvelope({ peerId: 'x', roomId: 'r', origin, reroutes: 1 }, '{"n":2}'));
      await until(() => sb.refusals.length === 1);
      expect(sb.refusals).toEqual([{ origin, targetPeerId: 'x', reason: 'not_found' }]);
      expect(sa.delivered.length).toBe(1);
    } finally {
      raw.disconnect();
      await a.stop();
      await b.stop();
    }
  });

  const redis = new RedisProcess();
  let prefixSeq = 0;
  beforeAll(async () => {
    await redis.start();
  });
  afterAll(async () => {
    await redis.stop();
  });
  contract('redis', () => ({
    async make() {
      const prefix = `t${++prefixSeq}:`;
      const pair = ['redis-a', 'redis-b'].map((serverId) => ({
        backend: new RedisBackend({ url: redis.url, prefix, reapAfterMs: 3000 }),
        sink: new RecordingSink(),
        serverId: `${serverId}-${prefixSeq}`,
      }));
      for (const i of pair) await i.backend.start({ serverId: i.serverId, host: '127.0.0.1', port: 0, version: 't', startedAt: 0 }, i.sink);
      return pair as unknown as [Instance, Instance];
    },
    async cleanup() {},
  }));
});

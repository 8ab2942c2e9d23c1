import { BenchPeer, type PeerSink } from '../peer.js';
import type { PeerPlan } from '../placement.js';
import type { Random } from '../random.js';

/** A peer of the shard: where it goes and whom it talks to (its plan), and its connection. */
export interface Entry {
  readonly plan: PeerPlan;
  readonly peer: BenchPeer;
  /** The target (URL index) it connects to: its plan's, until a reconnect takes it elsewhere. */
  instance: number;
}

/** The shard's peers, in plan order and by global index. */
export class ShardPeers {
  readonly entries: Entry[] = [];
  readonly byIndex = new Map<number, Entry>();
  /** The shard's peers of each room (rooms are never split over shards). */
  readonly byRoom = new Map<number, Entry[]>();

  add(plan: PeerPlan, sink: PeerSink): void {
    const entry: Entry = { plan, peer: new BenchPeer(plan.index, plan.peerId, sink), instance: plan.url };
    this.entries.push(entry);
    this.byIndex.set(plan.index, entry);
    let room = this.byRoom.get(plan.room);
    if (!room) this.byRoom.set(plan.room, (room = []));
    room.push(entry);
  }

  anyOnline(): boolean {
    return this.entries.some((e) => e.peer.online);
  }

  /** A random peer that is online (or the first one, after a few misses); null when none is. */
  pickOnline(random: Random): Entry | null {
    for (let tries = 0; tries < 20; tries++) {
      const e = this.entries[random.int(this.entries.length)]!;
      if (e.peer.online) return e;
    }
    return this.entries.find((e) => e.peer.online) ?? null;
  }

  registered(): number {
    return this.entries.reduce((a, e) => a + (e.peer.state === 'registered' ? 1 : 0), 0);
  }

  /** Requests sent and not answered yet, over all peers. */
  outstanding(): number {
    return this.entries.reduce((a, e) => a + e.peer.outstanding, 0);
  }

  /** Answers to offers received, over all peers. */
  answers(): number {
    return this.entries.reduce((a, e) => a + e.peer.answers, 0);
  }
}

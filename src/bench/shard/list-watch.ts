import type { Entry } from './peers.js';
import type { Storm } from './storm-ledger.js';

/**
 * Discovery during a storm: a watcher peer in each watched room discovers every interval; each
 * list is checked for a peer id listed twice, and for the room's abandoned peers (displaced, never
 * coming back): the first list after the fault that no longer holds one is when discovery let it go.
 */

/** Peer ids a list holds more than once, plus one when it holds `self` (the server never lists the asker). */
export function listedTwice(ids: readonly string[], self: string): number {
  const unique = new Set(ids);
  return ids.length - unique.size + (unique.has(self) ? 1 : 0);
}

/** An abandoned peer as discovery sees it: listed, or not listed since `goneUs`. */
interface Leaver {
  readonly peerId: string;
  /** First list (after the last one that held it) without it; null while listed or before any list. */
  goneUs: number | null;
  seen: boolean;
}

/** The watch of one storm: its watchers, by watcher index, and the abandoned peers of their rooms. */
export class StormWatch {
  private readonly leavers = new Map<number, Leaver[]>();
  private timer: NodeJS.Timeout | null = null;

  constructor(
    private readonly storm: Storm,
    /** Watcher entry per watched room. */
    private readonly watchers: ReadonlyMap<number, Entry>,
    abandoned: readonly Entry[],
  ) {
    storm.roomsWatched = watchers.size;
    for (const e of abandoned) {
      if (!watchers.has(e.plan.room)) continue;
      let list = this.leavers.get(e.plan.room);
      if (!list) this.leavers.set(e.plan.room, (list = []));
      list.push({ peerId: e.plan.peerId, goneUs: null, seen: false });
      storm.abandonedWatched++;
    }
  }

  /** Watchers discover every `intervalMs` from now until stop(). */
  start(intervalMs: number): void {
    const tick = () => {
      for (const w of this.watchers.values()) if (w.peer.online) w.peer.watchDiscover();
    };
    tick();
    this.timer = setInterval(tick, intervalMs);
  }

  /** A watcher's list arrived; false when `watcher` is not one of this storm's. */
  listed(watcher: Entry, ids: readonly string[], atUs: number): boolean {
    if (this.watchers.get(watcher.plan.room) !== watcher) return false;
    const storm = this.storm;
    storm.lists++;
    storm.listedTwice += listedTwice(ids, watcher.plan.peerId);
    const leavers = this.leavers.get(watcher.plan.room);
    if (leavers) {
      const present = new Set(ids);
      for (const l of leavers) {
        l.seen = true;
        if (present.has(l.peerId)) l.goneUs = null;
        else l.goneUs ??= atUs;
      }
    }
    return true;
  }

  /** Stops the watchers and counts the abandoned peers: gone (when), or still listed. */
  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    for (const leavers of this.leavers.values()) {
      for (const l of leavers) {
        if (!l.seen) continue;
        if (l.goneUs === null) this.storm.stillListed++;
        else this.storm.goneAfter(l.goneUs);
      }
    }
    this.leavers.clear();
  }
}

/**
 * Rooms to watch in a storm, and a watcher for each: rooms with abandoned peers first, then the
 * other rooms the fault hit, at most `most`; the watcher is a registered peer of the room on
 * another instance (a room without one is not watched).
 */
export function chooseWatchers(hit: readonly Entry[], abandoned: ReadonlySet<number>, members: ReadonlyMap<number, readonly Entry[]>, instance: number, most: number): Map<number, Entry> {
  // A Set keeps insertion order: rooms with abandoned peers come first.
  const rooms = new Set<number>();
  for (const e of hit) if (abandoned.has(e.plan.index)) rooms.add(e.plan.room);
  for (const e of hit) rooms.add(e.plan.room);
  const watchers = new Map<number, Entry>();
  for (const room of rooms) {
    if (watchers.size >= most) break;
    const watcher = members.get(room)?.find((e) => e.instance !== instance && e.peer.online);
    if (watcher) watchers.set(room, watcher);
  }
  return watchers;
}

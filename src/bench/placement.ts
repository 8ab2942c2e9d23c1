import { isIPv4 } from 'node:net';
import { roomSizes } from './room-sizes.js';
import type { Scenario } from './scenario/scenario.js';

/**
 * Where every simulated peer goes: its room, its role, its target URL, whom it relays to, and
 * its source address. With several URLs, peers that talk to each other are put on the same or
 * on different instances so that the chosen share of relays crosses instances.
 */

export type Role = 'worker' | 'client';

export interface PeerPlan {
  /** Global index (also the sender id in relayed messages). */
  readonly index: number;
  readonly peerId: string;
  readonly room: number;
  readonly roomId: string;
  readonly role: Role;
  readonly url: number;
  /** Global indices of the peers it relays to (one per message, round robin; all of them for fanout). */
  readonly targets: number[];
  readonly localAddress?: string;
}

export interface Placement {
  readonly peers: PeerPlan[];
  /** Members (global indices) of each room. */
  readonly rooms: number[][];
  /** Share of relayed messages expected to cross instances, given the placement. */
  readonly expectedCrossShare: number;
  /** Peers per URL. */
  readonly perUrl: number[];
}

/** Connections from one source address to one target, beyond which source addresses are spread. */
export const PORTS_PER_SOURCE = 25_000;

/** Spreads `n` decisions so that about `share` of them are true, evenly (not randomly). */
class Spreader {
  private i = 0;
  constructor(private readonly share: number) {}
  next(): boolean {
    const i = this.i++;
    return Math.floor((i + 1) * this.share + 1e-9) > Math.floor(i * this.share + 1e-9);
  }
}

export function place(s: Scenario, urlCount: number, runId: string, sourceAddresses: readonly string[] | 'auto' = 'auto', urls: readonly string[] = []): Placement {
  const sizes = roomSizes(s);
  const rooms: number[][] = [];
  const roomOf: number[] = [];
  let next = 0;
  sizes.forEach((size, r) => {
    const members = Array.from({ length: size }, () => next++);
    members.forEach((m) => (roomOf[m] = r));
    rooms.push(members);
  });
  const roles: Role[] = new Array<Role>(s.peers).fill('client');
  const workersOf: number[][] = rooms.map((members) => {
    const n = members.length;
    let w = s.roles.workerShare > 0 ? Math.round(n * s.roles.workerShare) : 0;
    if (s.roles.workerShare > 0 && n >= 2) w = Math.min(n - 1, Math.max(1, w));
    if (s.roles.workerShare >= 1) w = n;
    const workers = members.slice(0, w);
    workers.forEach((m) => (roles[m] = 'worker'));
    return workers;
  });

  const targets: number[][] = Array.from({ length: s.peers }, () => []);
  const url: number[] = new Array<number>(s.peers).fill(0);
  const U = Math.max(1, urlCount);
  const cross = new Spreader(U > 1 ? s.crossShare : 0);
  // Peers per URL so far: new peers go where there are fewest, so the instances stay balanced.
  const load = new Array<number>(U).fill(0);
  const leastLoaded = (except: number) => {
    let best = -1;
    for (let u = 0; u < U; u++) if (u !== except && (best < 0 || load[u]! < load[best]!)) best = u;
    return best;
  };
  const anchor = (room: number) => (s.urlSpread === 'room' ? room % U : leastLoaded(-1));
  const other = (from: number) => leastLoaded(from);
  const put = (peer: number, u: number) => {
    url[peer] = u;
    load[u]!++;
  };

  rooms.forEach((members, r) => {
    const n = members.length;
    if (s.traffic.pattern === 'pairs') {
      for (let i = 0; i + 1 < n; i += 2) {
        const a = members[i]!;
        const b = members[i + 1]!;
        targets[a]!.push(b);
        targets[b]!.push(a);
        const home = anchor(r);
        put(a, home);
        put(b, cross.next() ? other(home) : home);
      }
      if (n % 2 === 1) {
        const last = members[n - 1]!;
        if (n >= 2) {
          targets[last]!.push(members[n - 2]!);
          const partner = url[members[n - 2]!]!;
          put(last, cross.next() ? other(partner) : partner);
        } else {
          put(last, anchor(r));
        }
      }
    } else if (s.traffic.pattern === 'worker-client') {
      const workers = workersOf[r]!;
      const clients = members.filter((m) => roles[m] === 'client');
      workers.forEach((w) => put(w, anchor(r)));
      clients.forEach((c, j) => {
        if (workers.length === 0) {
          put(c, anchor(r));
          return;
        }
        const w = workers[j % workers.length]!;
        targets[c]!.push(w);
        targets[w]!.push(c);
        put(c, cross.next() ? other(url[w]!) : url[w]!);
      });
    } else {
      // Fan-out: every peer relays to every other; choose how many sit away from the room's home.
      const home = anchor(r);
      const away = U > 1 ? bestAwayCount(n, U, s.crossShare) : 0;
      members.forEach((m, i) => {
        targets[m]!.push(...members.filter((o) => o !== m));
        put(m, i < n - away ? home : other(home));
      });
    }
  });

  // Expected cross share, weighting each relay stream by its share of the sender's messages.
  let crossWeight = 0;
  let totalWeight = 0;
  for (let p = 0; p < s.peers; p++) {
    const t = targets[p]!;
    if (t.length === 0) continue;
    const w = s.traffic.pattern === 'fanout' ? 1 : 1 / t.length;
    for (const q of t) {
      totalWeight += w;
      if (url[q] !== url[p]) crossWeight += w;
    }
  }

  const perUrl = new Array<number>(U).fill(0);
  url.forEach((u) => perUrl[u]!++);
  const sources = sourcePlan(sourceAddresses, perUrl, urls);
  const ordinal = new Array<number>(U).fill(0);
  const peers: PeerPlan[] = [];
  for (let p = 0; p < s.peers; p++) {
    const u = url[p]!;
    const list = sources[u]!;
    const localAddress = list.length > 0 ? list[ordinal[u]!++ % list.length] : undefined;
    peers.push({
      index: p,
      peerId: `bench-${runId}-${p}`,
      room: roomOf[p]!,
      roomId: `bench-${runId}-room-${roomOf[p]!}`,
      role: roles[p]!,
      url: u,
      targets: targets[p]!,
      ...(localAddress !== undefined ? { localAddress } : {}),
    });
  }
  return { peers, rooms, expectedCrossShare: totalWeight > 0 ? crossWeight / totalWeight : 0, perUrl };
}

/** Peers of a fan-out room to put away from its home instance so the cross share is closest to `share`. */
function bestAwayCount(n: number, U: number, share: number): number {
  if (n < 2) return 0;
  let best = 0;
  let bestDiff = Infinity;
  for (let a = 0; a < n; a++) {
    const counts = new Array<number>(U).fill(0);
    counts[0] = n - a;
    for (let k = 0; k < a; k++) counts[1 + (k % (U - 1))]!++;
    const same = counts.reduce((acc, c) => acc + c * (c - 1), 0);
    const crossShare = 1 - same / (n * (n - 1));
    const diff = Math.abs(crossShare - share);
    if (diff < bestDiff - 1e-12) {
      bestDiff = diff;
      best = a;
    }
  }
  return best;
}

/**
 * Source addresses per URL: an explicit list is used round robin; `auto` spreads connections to a
 * loopback IPv4 target over 127.0.0.1, 127.0.0.2, ... once there are more than PORTS_PER_SOURCE
 * of them (one source address has only ~28,000 ephemeral ports towards one target).
 */
export function sourcePlan(spec: readonly string[] | 'auto', perUrl: readonly number[], urls: readonly string[]): string[][] {
  return perUrl.map((count, u) => {
    if (spec !== 'auto') return [...spec];
    if (count <= PORTS_PER_SOURCE) return [];
    const host = urls[u] ? new URL(urls[u]).hostname : '';
    if (!(isIPv4(host) && host.startsWith('127.')) && host !== 'localhost') return [];
    const n = Math.ceil(count / PORTS_PER_SOURCE);
    return Array.from({ length: n }, (_, k) => `127.0.0.${1 + k}`);
  });
}

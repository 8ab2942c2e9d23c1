import type { Histogram } from 'hdr-histogram-js';
import { encodeHistogram, newHistogram, recordUs } from '../recorder.js';
import type { Fault } from '../scenario/scenario.js';
import { noLost, type LostCounts } from './lost-class.js';
import { StormRelays, type RelayEnds } from './storm-relays.js';

/**
 * What one generator thread counts of each storm (the time from a fault to the next fault, or to
 * the end of the traffic): the peers it displaced and how they came back, the relays sent and
 * received in it, the relays refused in it, and what discovery listed meanwhile.
 */

/** One thread's counts of one storm, as plain data (worker threads post it); storm-report.ts merges them. */
export interface StormTally {
  displaced: number;
  abandoned: number;
  back: number;
  /** µs from the fault until each displaced peer was registered again (HDR, encoded). */
  backUs: string;
  /** µs from each displaced peer's own close until it was registered again (HDR, encoded). */
  downUs: string;
  /** µs of the connect (TCP + upgrade) and of the register → registered of each successful reconnect (HDR, encoded). */
  connectUs: string;
  registerUs: string;
  attempts: number;
  /** Failed reconnect attempts by class (connect.refused, register.protocol.PEER_ID_TAKEN, register.timeout, register.close.1012, ...). */
  failures: Record<string, number>;
  relaysSent: number;
  relaysReceived: number;
  /** Relay errors in the storm, by class (protocol.PEER_NOT_FOUND, protocol.SERVICE_UNAVAILABLE, ...). */
  refused: Record<string, number>;
  /** The relays sent in the storm and never received, by why (lost-class.ts). */
  lostBy: LostCounts;
  /** Peer ids a list (a reconnect's peer_list, a watcher's discover) held twice, or a peer's own id in its list. */
  listedTwice: number;
  roomsWatched: number;
  /** Watchers' discover replies. */
  lists: number;
  /** Abandoned peers in watched rooms. */
  abandonedWatched: number;
  /** µs from the fault until discovery stopped listing each abandoned peer watched (HDR, encoded). */
  goneUs: string;
  /** Abandoned peers the last watched list still held. */
  stillListed: number;
}

/** Relay errors that say the target could not be reached: a relay refused. */
const REFUSALS: ReadonlySet<string> = new Set(['protocol.PEER_NOT_FOUND', 'protocol.PEER_NOT_IN_ROOM', 'protocol.SERVICE_UNAVAILABLE']);

/** Which relay an error refused: `from`'s, on its connection `conn`, to `to` (null: the error does not say); `tracked`: a peer_message. */
export interface RefusalOf {
  readonly from: number;
  readonly conn: number;
  readonly to: number | null;
  readonly tracked: boolean;
}

/** A close this long before the fault's time is still the fault's (the fault's timer runs in another thread). */
export const ATTRIBUTION_SLACK_US = 100_000;

function bump(counts: Map<string, number>, key: string): void {
  counts.set(key, (counts.get(key) ?? 0) + 1);
}

/** The class of a failed reconnect attempt, named for its step: connect.refused, register.protocol.PEER_ID_TAKEN, register.timeout, ... */
export function failureClass(step: 'connect' | 'register', cls: string): string {
  if (cls === 'timeout.register') return 'register.timeout';
  return cls.startsWith(`${step}.`) ? cls : `${step}.${cls}`;
}

export class Storm {
  startUs = Infinity;
  endUs = Infinity;
  opened = false;
  /** Peers (global indices) on the faulted instance when the storm opened. */
  readonly onInstance = new Set<number>();
  /** Of those, the ones that will not come back. */
  readonly abandon = new Set<number>();
  displaced = 0;
  abandoned = 0;
  back = 0;
  attempts = 0;
  relaysSent = 0;
  relaysReceived = 0;
  listedTwice = 0;
  roomsWatched = 0;
  lists = 0;
  abandonedWatched = 0;
  stillListed = 0;
  lostBy: LostCounts = noLost();
  readonly backUs: Histogram = newHistogram();
  readonly downUs: Histogram = newHistogram();
  readonly connectUs: Histogram = newHistogram();
  readonly registerUs: Histogram = newHistogram();
  readonly goneUs: Histogram = newHistogram();
  readonly failures = new Map<string, number>();
  readonly refused = new Map<string, number>();

  constructor(readonly fault: Fault) {}

  /** A displaced peer, whose connection closed at `lostUs`, is registered again at `atUs` (its last attempt's steps took `steps`). */
  comeBack(atUs: number, lostUs: number, steps: { readonly connectUs: number; readonly registerUs: number }): void {
    this.back++;
    recordUs(this.backUs, atUs - this.startUs);
    recordUs(this.downUs, atUs - lostUs);
    recordUs(this.connectUs, steps.connectUs);
    recordUs(this.registerUs, steps.registerUs);
  }

  /** Discovery stopped listing an abandoned peer at `atUs`. */
  goneAfter(atUs: number): void {
    recordUs(this.goneUs, atUs - this.startUs);
  }

  /** A reconnect attempt failed at `step` with `cls` (a connect error class, a protocol error, a close, a timeout). */
  failed(step: 'connect' | 'register', cls: string): void {
    bump(this.failures, failureClass(step, cls));
  }

  encode(): StormTally {
    return {
      displaced: this.displaced,
      abandoned: this.abandoned,
      back: this.back,
      backUs: encodeHistogram(this.backUs),
      downUs: encodeHistogram(this.downUs),
      connectUs: encodeHistogram(this.connectUs),
      registerUs: encodeHistogram(this.registerUs),
      attempts: this.attempts,
      failures: Object.fromEntries(this.failures),
      relaysSent: this.relaysSent,
      relaysReceived: this.relaysReceived,
      refused: Object.fromEntries(this.refused),
      lostBy: { ...this.lostBy },
      listedTwice: this.listedTwice,
      roomsWatched: this.roomsWatched,
      lists: this.lists,
      abandonedWatched: this.abandonedWatched,
      goneUs: encodeHistogram(this.goneUs),
      stillListed: this.stillListed,
    };
  }
}

/** The storms of a run, one per fault, in time order. */
export class StormLedger {
  readonly storms: readonly Storm[];
  /** Each relay of the storms until it arrives, to tell the lost ones apart. */
  readonly relays: StormRelays;
  /** Start of the first storm (Infinity without one): the relay paths compare against it and do nothing more before it. */
  fromUs = Infinity;

  /** `answerWithinUs`: a fault that closed a relay's sender or target this soon after the send explains its loss (the scenario's request timeout). */
  constructor(faults: readonly Fault[], answerWithinUs = 5_000_000) {
    this.storms = faults.map((f) => new Storm(f));
    this.relays = new StormRelays(answerWithinUs);
  }

  /** Places the storms in the traffic window: each lasts until the next one, the last until the traffic ends. */
  begin(window: { readonly startUs: number; readonly endUs: number }): void {
    this.storms.forEach((storm, i) => {
      storm.startUs = window.startUs + storm.fault.atMs * 1000;
      storm.endUs = i + 1 < this.storms.length ? window.startUs + this.storms[i + 1]!.fault.atMs * 1000 : window.endUs;
    });
    this.fromUs = this.storms[0]?.startUs ?? Infinity;
  }

  /** The storm under way at `us`, or null. */
  at(us: number): Storm | null {
    for (const storm of this.storms) if (us >= storm.startUs && us < storm.endUs) return storm;
    return null;
  }

  /** The latest storm that faulted `instance` by `us` (give or take the slack), or null. */
  of(instance: number, us: number): Storm | null {
    for (let i = this.storms.length - 1; i >= 0; i--) {
      const storm = this.storms[i]!;
      if (storm.fault.instance === instance && us >= storm.startUs - ATTRIBUTION_SLACK_US) return storm;
    }
    return null;
  }

  /** Instances faulted by `us`: not worth reconnecting to. */
  gone(us: number): Set<number> {
    return new Set(this.storms.filter((s) => s.startUs <= us).map((s) => s.fault.instance));
  }

  /** A relay scheduled at `intendedUs` left at `sentUs` (`ends`: which relay, between which connections). */
  sent(intendedUs: number, sentUs: number, ends: RelayEnds): void {
    const k = this.indexAt(intendedUs);
    if (k < 0) return;
    this.storms[k]!.relaysSent++;
    this.relays.sent(k, sentUs, ends);
  }

  /** Relay number `seq` from `from` to `to`, scheduled at `sentUs`, arrived. */
  received(sentUs: number, from: number, to: number, seq: number): void {
    const storm = this.at(sentUs);
    if (!storm) return;
    storm.relaysReceived++;
    this.relays.received(from, to, seq);
  }

  /** A relay's error reply at `atUs`: counted when it refused a relay during a storm; one of the relays tracked here (peer_message) is told apart. */
  error(cls: string, atUs: number, about: RefusalOf): void {
    if (!REFUSALS.has(cls)) return;
    const storm = this.at(atUs);
    if (!storm) return;
    bump(storm.refused, cls);
    if (about.tracked) this.relays.refused(about.from, about.conn, about.to, atUs);
  }

  /** `peer`'s connection number `conn`, on `instance`, closed without the bench closing it, at `atUs`. */
  closed(peer: number, conn: number, instance: number, atUs: number): void {
    const storm = this.of(instance, atUs);
    if (storm !== null) this.relays.closedByFault(peer, conn, atUs, storm.fault.action);
  }

  encode(): StormTally[] {
    this.relays.lost(this.storms.length).forEach((counts, k) => (this.storms[k]!.lostBy = counts));
    return this.storms.map((s) => s.encode());
  }

  private indexAt(us: number): number {
    return this.storms.findIndex((s) => us >= s.startUs && us < s.endUs);
  }
}

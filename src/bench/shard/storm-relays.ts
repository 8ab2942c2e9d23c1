import type { FaultAction } from '../scenario/schema.js';
import { classifyLost, noLost, type FaultClose, type LostCounts } from './lost-class.js';

/**
 * Each relay sent during a storm, until it arrives: what is left at the end was lost, and is told
 * apart (lost-class.ts) by the errors that came back to its sender and by the faults that closed
 * its sender's or its target's connection. Sender and target are always in the same thread.
 */

/** A relay, and which of their connections (1 for a peer's first, one more for each reconnect) sent it and was to receive it. */
export interface RelayEnds {
  readonly from: number;
  readonly to: number;
  readonly seq: number;
  readonly senderConn: number;
  readonly targetConn: number;
}

interface InFlight extends RelayEnds {
  readonly storm: number;
  readonly sentUs: number;
  refused: boolean;
}

interface Refusal {
  readonly from: number;
  /** The sender's connection it came on: it answers a relay sent on that one. */
  readonly conn: number;
  /** The target the error names; null when it names none of the sender's targets. */
  readonly to: number | null;
  readonly atUs: number;
}

/** Peer indices stay below this: a stream's key is from * STREAM + to. */
const STREAM = 2 ** 21;

export class StormRelays {
  /** Relays not received yet, by stream and sequence number. */
  private readonly inFlight = new Map<number, Map<number, InFlight>>();
  private readonly refusals: Refusal[] = [];
  /** When, and by which fault, each peer's connections (by number) were closed. */
  private readonly faultCloses = new Map<number, Map<number, { readonly atUs: number; readonly action: FaultAction }>>();

  /** `answerWithinUs`: a fault's close this long after a relay explains its silence; a later one does not (an answer takes less). */
  constructor(private readonly answerWithinUs: number) {}

  sent(storm: number, sentUs: number, ends: RelayEnds): void {
    const key = ends.from * STREAM + ends.to;
    let stream = this.inFlight.get(key);
    if (stream === undefined) this.inFlight.set(key, (stream = new Map()));
    stream.set(ends.seq, { ...ends, storm, sentUs, refused: false });
  }

  received(from: number, to: number, seq: number): void {
    const key = from * STREAM + to;
    const stream = this.inFlight.get(key);
    if (stream?.delete(seq) && stream.size === 0) this.inFlight.delete(key);
  }

  /** An error that refused one of `from`'s relays (to `to`, when it names it) came on its connection `conn` at `atUs`. */
  refused(from: number, conn: number, to: number | null, atUs: number): void {
    this.refusals.push({ from, conn, to, atUs });
  }

  /** A fault (`action`) closed `peer`'s connection number `conn` at `atUs`. */
  closedByFault(peer: number, conn: number, atUs: number, action: FaultAction): void {
    let closes = this.faultCloses.get(peer);
    if (closes === undefined) this.faultCloses.set(peer, (closes = new Map()));
    closes.set(conn, { atUs, action });
  }

  /** The relays still not received, by class, for each of `storms` storms. */
  lost(storms: number): LostCounts[] {
    const bySender = new Map<number, InFlight[]>();
    for (const stream of this.inFlight.values()) {
      for (const r of stream.values()) {
        let list = bySender.get(r.from);
        if (list === undefined) bySender.set(r.from, (list = []));
        list.push(r);
      }
    }
    for (const list of bySender.values()) list.sort((a, b) => a.sentUs - b.sentUs);
    // An error goes to the newest relay still unmatched that it can be about: sent before it, on the
    // connection it came on, to the target it names. Not the oldest: a relay lost in flight long
    // before (a kill) would take a later relay's refusal.
    for (const e of [...this.refusals].sort((a, b) => a.atUs - b.atUs)) {
      const list = bySender.get(e.from) ?? [];
      for (let i = list.length - 1; i >= 0; i--) {
        const x = list[i]!;
        if (!x.refused && x.senderConn === e.conn && x.sentUs <= e.atUs && (e.to === null || x.to === e.to)) {
          x.refused = true;
          break;
        }
      }
    }
    const counts = Array.from({ length: storms }, noLost);
    for (const list of bySender.values()) {
      for (const r of list) {
        const facts = { refused: r.refused, sender: this.closeAfter(r.from, r.senderConn, r.sentUs), target: this.closeAfter(r.to, r.targetConn, r.sentUs) };
        counts[r.storm]![classifyLost(facts, this.answerWithinUs)]++;
      }
    }
    return counts;
  }

  private closeAfter(peer: number, conn: number, sentUs: number): FaultClose | null {
    const close = this.faultCloses.get(peer)?.get(conn);
    return close === undefined ? null : { afterUs: close.atUs - sentUs, action: close.action };
  }
}

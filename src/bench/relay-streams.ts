/**
 * Loss, duplicate and order checks of relays: a receiver's state per sender, from the sequence
 * numbers senders put in each relay.
 */

/** Per-sender receive state of one stream of relays, for loss, duplicate and order checks. */
export interface InboundStream {
  /** Highest sequence number seen so far (-1: none). */
  max: number;
  /** Unique messages received. */
  received: number;
  /** Sequence numbers skipped over and not seen yet (reordered if they come later). */
  gaps: Set<number> | null;
}

/** A receiver's streams, by sender index. */
export type RelayStreams = Map<number, InboundStream>;

export type RelayOutcome = 'new' | 'reordered' | 'duplicate';

/** Gaps wider than this are not remembered one by one (a late arrival then counts as a duplicate). */
const MAX_GAP = 10_000;

/** Accounts one relay from `from` numbered `seq` in a receiver's `streams`; returns 'new', 'reordered' or 'duplicate'. */
export function acceptRelay(streams: RelayStreams, from: number, seq: number): RelayOutcome {
  let s = streams.get(from);
  if (s === undefined) {
    s = { max: -1, received: 0, gaps: null };
    streams.set(from, s);
  }
  if (seq > s.max) {
    if (seq > s.max + 1 && seq - s.max <= MAX_GAP) {
      s.gaps ??= new Set();
      for (let q = s.max + 1; q < seq; q++) s.gaps.add(q);
    }
    s.max = seq;
    s.received++;
    return 'new';
  }
  if (s.gaps?.delete(seq)) {
    s.received++;
    return 'reordered';
  }
  return 'duplicate';
}

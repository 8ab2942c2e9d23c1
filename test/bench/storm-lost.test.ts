import { describe, expect, it } from 'vitest';
import { classifyLost, type FaultClose } from '../../src/bench/shard/lost-class.js';
import { StormLedger } from '../../src/bench/shard/storm-ledger.js';
import { mergeStormTallies, stormReports } from '../../src/bench/storm-report.js';
import { stormRows } from '../../src/bench/storm-text.js';

/** Why each relay lost in a storm was lost: refused, its sender closed, its target on the faulted instance, or unexplained. */

const WITHIN = 5_000_000;
const kill = (afterUs: number): FaultClose => ({ afterUs, action: 'kill' });
const drain = (afterUs: number): FaultClose => ({ afterUs, action: 'drain' });

describe('the class of a lost relay', () => {
  it('is refused whenever an error came back', () => {
    expect(classifyLost({ refused: true, sender: null, target: null }, WITHIN)).toBe('refused');
    expect(classifyLost({ refused: true, sender: kill(10), target: kill(10) }, WITHIN)).toBe('refused');
  });

  it('on a kill: the sender’s instance took it (sender closed), else the target’s (in flight to it)', () => {
    expect(classifyLost({ refused: false, sender: kill(200_000), target: null }, WITHIN)).toBe('sender_closed');
    expect(classifyLost({ refused: false, sender: kill(200_000), target: kill(100_000) }, WITHIN)).toBe('sender_closed');
    expect(classifyLost({ refused: false, sender: null, target: kill(0) }, WITHIN)).toBe('target_faulted');
  });

  it('on a drain: only when the target was closed too (a refusal was due, and nobody left to tell)', () => {
    expect(classifyLost({ refused: false, sender: drain(800_000), target: drain(50_000) }, WITHIN)).toBe('sender_closed');
    // The drained instance still delivers what a client sent before its 1012 to a target that stayed.
    expect(classifyLost({ refused: false, sender: drain(800_000), target: null }, WITHIN)).toBe('unexplained');
    // A drained target gets the relay before its 1012, or its sender is told.
    expect(classifyLost({ refused: false, sender: null, target: drain(50_000) }, WITHIN)).toBe('unexplained');
  });

  it('not by a fault’s close before the send, or much later than an answer takes', () => {
    expect(classifyLost({ refused: false, sender: null, target: null }, WITHIN)).toBe('unexplained');
    expect(classifyLost({ refused: false, sender: kill(-1), target: kill(-1) }, WITHIN)).toBe('unexplained');
    expect(classifyLost({ refused: false, sender: kill(WITHIN + 1), target: kill(WITHIN + 1) }, WITHIN)).toBe('unexplained');
    expect(classifyLost({ refused: false, sender: kill(WITHIN), target: null }, WITHIN)).toBe('sender_closed');
  });
});

describe('lost relays in the storm ledger', () => {
  const window = { startUs: 1_000_000, measureStartUs: 1_000_000, endUs: 61_000_000 };
  // Instance 0 killed at 11 s, instance 1 drained at 41 s (times from the traffic's start at 1 s).
  const faults = [
    { atMs: 10_000, action: 'kill', instance: 0 },
    { atMs: 40_000, action: 'drain', instance: 1 },
  ] as const;
  const ledger = () => {
    const l = new StormLedger(faults, WITHIN);
    l.begin(window);
    return l;
  };
  let seqs = new Map<string, number>();
  /** Peer `from`'s relay to `to` at `us` over their connections; returns its sequence number. */
  const send = (l: StormLedger, us: number, from: number, to: number, senderConn = 1, targetConn = 1) => {
    const key = `${from}>${to}`;
    const seq = seqs.get(key) ?? 0;
    seqs.set(key, seq + 1);
    l.sent(us, us, { from, to, seq, senderConn, targetConn });
    return seq;
  };

  it('tells every lost relay apart, and the classes add up to the relays not received', () => {
    seqs = new Map();
    const l = ledger();
    // Kill storm. 1 (on instance 0) → 2: gone with the sender's instance.
    send(l, 11_000_000, 1, 2);
    l.closed(1, 1, 0, 11_050_000);
    // 3 → 4 (on instance 0): in flight to the killed instance.
    send(l, 11_000_000, 3, 4);
    l.closed(4, 1, 0, 11_040_000);
    // 5 → 6, received; 5 → 7 refused (the error names 7).
    l.received(11_100_000, 5, 6, send(l, 11_100_000, 5, 6));
    send(l, 11_200_000, 5, 7);
    l.error('protocol.PEER_NOT_FOUND', 11_210_000, { from: 5, conn: 1, to: 7, tracked: true });
    // 8 → 9: nothing explains it.
    send(l, 12_000_000, 8, 9);
    // Drain storm. 10 and 11 both drained: the refusal due to 10 had nobody to go to.
    send(l, 41_100_000, 10, 11);
    l.closed(11, 1, 1, 41_150_000);
    l.closed(10, 1, 1, 41_900_000);
    // 12 drained, its target 13 stayed: the drained instance must still deliver it.
    send(l, 41_100_000, 12, 13);
    l.closed(12, 1, 1, 41_300_000);
    // 14 → 15 (drained), 14 stayed: the drained instance delivers before the 1012 or refuses.
    send(l, 41_200_000, 14, 15);
    l.closed(15, 1, 1, 41_250_000);
    // A close on an instance no fault touched explains nothing: 16 → 17, 17 closed on instance 2.
    send(l, 42_000_000, 16, 17);
    l.closed(17, 1, 2, 42_100_000);
    const [killed, drained] = l.encode();
    expect(killed!.lostBy).toEqual({ refused: 1, sender_closed: 1, target_faulted: 1, unexplained: 1 });
    expect(drained!.lostBy).toEqual({ refused: 0, sender_closed: 1, target_faulted: 0, unexplained: 3 });
    for (const s of [killed!, drained!]) {
      expect(Object.values(s.lostBy).reduce((a, b) => a + b, 0)).toBe(s.relaysSent - s.relaysReceived);
    }
  });

  it('gives an error to a relay of the connection it came on, the target it names, the newest first', () => {
    seqs = new Map();
    const l = ledger();
    // 1 → 2 lost in flight to the killed instance on 2's first connection; 2 comes back (connection 2),
    // is drained later, and 1's relay to it then is refused: the error is the second relay's.
    send(l, 11_000_000, 1, 2, 1, 1);
    l.closed(2, 1, 0, 11_010_000);
    send(l, 41_100_000, 1, 2, 1, 2);
    l.error('protocol.PEER_NOT_FOUND', 41_150_000, { from: 1, conn: 1, to: 2, tracked: true });
    // 3's relay on its first connection; an error on its second connection is not about it.
    send(l, 41_100_000, 3, 4, 1, 1);
    l.error('protocol.PEER_NOT_FOUND', 41_150_000, { from: 3, conn: 2, to: 4, tracked: true });
    // An error that names another target, or comes before the relay was sent, is not about it.
    send(l, 41_100_000, 5, 6);
    l.error('protocol.PEER_NOT_FOUND', 41_150_000, { from: 5, conn: 1, to: 7, tracked: true });
    l.error('protocol.PEER_NOT_FOUND', 41_050_000, { from: 5, conn: 1, to: 6, tracked: true });
    // One that names no target (SERVICE_UNAVAILABLE for shared state) is about any; an offer's is not counted here.
    send(l, 41_100_000, 8, 9);
    l.error('protocol.SERVICE_UNAVAILABLE', 41_150_000, { from: 8, conn: 1, to: null, tracked: true });
    send(l, 41_100_000, 10, 11);
    l.error('protocol.PEER_NOT_FOUND', 41_150_000, { from: 10, conn: 1, to: null, tracked: false });
    const [killed, drained] = l.encode();
    expect(killed!.lostBy).toEqual({ refused: 0, sender_closed: 0, target_faulted: 1, unexplained: 0 });
    expect(drained!.lostBy).toEqual({ refused: 2, sender_closed: 0, target_faulted: 0, unexplained: 3 });
    expect(drained!.refused).toEqual({ 'protocol.PEER_NOT_FOUND': 5, 'protocol.SERVICE_UNAVAILABLE': 1 });
  });
});

describe('lost relays in the storm report', () => {
  const faults = [{ atMs: 5000, action: 'kill', instance: 0 }] as const;
  const window = { startUs: 1_000_000, measureStartUs: 1_000_000, endUs: 11_000_000 };

  it('adds up the threads’ classes, reports them beside lost, and marks the unexplained', () => {
    const shard = (lostBy: { refused: number; sender_closed: number; target_faulted: number; unexplained: number }) => {
      const l = new StormLedger(faults);
      l.begin(window);
      const [t] = l.encode();
      return [{ ...t!, relaysSent: 100, relaysReceived: 100 - Object.values(lostBy).reduce((a, b) => a + b, 0), lostBy }];
    };
    const merged = mergeStormTallies([shard({ refused: 2, sender_closed: 3, target_faulted: 1, unexplained: 0 }), shard({ refused: 1, sender_closed: 0, target_faulted: 4, unexplained: 1 })]);
    const [report] = stormReports(merged, faults, null, window);
    expect(report!.relays).toMatchObject({ sent: 200, received: 188, lost: 12, lost_by_cause: { refused: 3, sender_closed: 3, target_faulted: 5, unexplained: 1 } });
    const row = stormRows(report!, 0).find(([label]) => label.trim() === 'lost');
    expect(row).toEqual(['  lost', "3 refused, 3 sender's connection closed by the fault, 5 to a peer on the faulted instance, 1 unexplained", true]);
    report!.relays.lost_by_cause!.unexplained = 0;
    expect(stormRows(report!, 0).find(([label]) => label.trim() === 'lost')![2]).toBe(false);
  });
});

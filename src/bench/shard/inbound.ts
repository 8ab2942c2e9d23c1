import { nowUs } from '../clock.js';
import type { BenchPeer, PeerSink } from '../peer.js';
import { recordUs, type Recorder } from '../recorder.js';
import { acceptRelay } from '../relay-streams.js';
import type { ConnectionCounts, ShardContext, TrafficWindow } from './context.js';
import type { Entry } from './peers.js';
import type { Reconnect } from './reconnect.js';
import type { StormLedger } from './storm-ledger.js';
import type { IntervalCounts } from './timeline.js';
import type { Traffic } from './traffic.js';

/** The requests of the bench that relay something (their errors are refusals). */
const RELAY_TYPES: ReadonlySet<string> = new Set(['peer_message', 'offer', 'answer']);

/**
 * What the shard's peers report back: relays received (lost, duplicated, reordered; latency when
 * sent in the measured window), replies and answers (round trips), errors, closes, presence.
 */
export class Inbound implements PeerSink {
  private readonly byIndex: Map<number, Entry>;
  private readonly rec: Recorder;
  private readonly interval: IntervalCounts;
  private readonly window: TrafficWindow;
  private readonly connections: ConnectionCounts;
  private readonly closedLoop: boolean;
  private readonly requestTimeoutUs: number;
  private readonly storms: StormLedger;

  constructor(
    ctx: ShardContext,
    private readonly traffic: Traffic,
    private readonly reconnect: Reconnect,
  ) {
    this.storms = ctx.storms;
    this.byIndex = ctx.peers.byIndex;
    this.rec = ctx.rec;
    this.interval = ctx.interval;
    this.window = ctx.window;
    this.connections = ctx.connections;
    this.closedLoop = traffic.closedLoop;
    this.requestTimeoutUs = ctx.scenario.requestTimeoutMs * 1000;
  }

  relay(peer: BenchPeer, from: number, seq: number, sentUs: number, atUs: number): void {
    const outcome = acceptRelay(peer.streams, from, seq);
    const c = this.rec.counters;
    if (outcome === 'duplicate') {
      c.duplicated++;
      return;
    }
    c.relaysReceived++;
    this.interval.received++;
    if (outcome === 'reordered') c.reordered++;
    if (sentUs >= this.storms.fromUs) this.storms.received(sentUs, from, peer.index, seq);
    const sender = this.byIndex.get(from);
    if (this.closedLoop && sender) this.traffic.closedSend(sender);
    if (sentUs >= this.window.measureStartUs && sentUs < this.window.endUs) {
      const latency = atUs - sentUs;
      const receiver = this.byIndex.get(peer.index);
      const cross = sender !== undefined && receiver !== undefined && sender.instance !== receiver.instance;
      this.rec.record(cross ? 'relay_cross' : 'relay', latency);
      recordUs(this.interval.relay, latency);
    }
  }

  answer(_peer: BenchPeer, sentUs: number, atUs: number): void {
    this.completed('offer_answer', sentUs, atUs);
  }

  reply(_peer: BenchPeer, op: 'discover' | 'update_metadata', sentUs: number, atUs: number, ok: boolean): void {
    if (ok) this.completed(op, sentUs, atUs);
  }

  /** A round trip ended: recorded when measured, an error (timeout.OP) when later than request_timeout. */
  private completed(op: 'discover' | 'update_metadata' | 'offer_answer', sentUs: number, atUs: number): void {
    if (atUs - sentUs > this.requestTimeoutUs) {
      this.rec.error(`timeout.${op}`);
      return;
    }
    if (sentUs >= this.window.measureStartUs && sentUs < this.window.endUs) this.rec.record(op, atUs - sentUs);
  }

  error(peer: BenchPeer, cls: string, reply?: Readonly<Record<string, unknown>>): void {
    this.rec.error(cls);
    const type = reply?.request_type;
    if (this.storms.fromUs === Infinity || typeof type !== 'string' || !RELAY_TYPES.has(type)) return;
    const to = type === 'peer_message' ? this.targetNamed(peer.index, reply?.message) : null;
    this.storms.error(cls, nowUs(), { from: peer.index, conn: peer.connections, to, tracked: type === 'peer_message' });
  }

  /** The target of `from` an error names (`peer ID is not connected`, `the relay to ID could not be delivered`), or null. */
  private targetNamed(from: number, about: unknown): number | null {
    const sender = this.byIndex.get(from);
    if (typeof about !== 'string' || sender === undefined) return null;
    for (const t of sender.plan.targets) {
      const target = this.byIndex.get(t);
      if (target !== undefined && about.includes(` ${target.plan.peerId} `)) return t;
    }
    return null;
  }

  closed(peer: BenchPeer, code: number, expected: boolean): void {
    this.connections.open--;
    if (!expected) {
      this.rec.error(`close.${code}`);
      const entry = this.byIndex.get(peer.index);
      if (entry) {
        this.storms.closed(peer.index, peer.connections, entry.instance, nowUs());
        countUnanswered(this.rec, entry, 'unanswered');
        this.reconnect.lost(entry, code);
      }
    }
  }

  presence(): void {
    this.rec.counters.presenceEvents++;
  }

  listed(peer: BenchPeer, peerIds: readonly string[], atUs: number): void {
    const entry = this.byIndex.get(peer.index);
    if (entry) this.reconnect.listed(entry, peerIds, atUs);
  }
}

/** Requests of `entry` that will get no reply any more: counted, and errors of class `timeout.OP` / `unanswered.OP`. */
export function countUnanswered(rec: Recorder, entry: Entry, cls: 'timeout' | 'unanswered'): void {
  const dropped = entry.peer.dropOutstanding();
  for (const [op, n] of Object.entries(dropped)) {
    if (n <= 0) continue;
    rec.counters.unanswered += n;
    rec.error(`${cls}.${op}`, n);
  }
}

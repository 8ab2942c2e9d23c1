import type { PeerPlan } from '../placement.js';
import type { Random } from '../random.js';
import type { Recorder } from '../recorder.js';
import type { Scenario } from '../scenario/scenario.js';
import type { ShardPeers } from './peers.js';
import type { StormLedger } from './storm-ledger.js';
import type { IntervalCounts } from './timeline.js';

/** What the runner hands a shard: its share of the peers and the run's clock. */
export interface ShardInit {
  readonly shard: number;
  readonly shards: number;
  readonly scenario: Scenario;
  readonly urls: readonly string[];
  readonly peers: readonly PeerPlan[];
  /** Start of the run on the shared clock: timeline second 0. */
  readonly runStartUs: number;
}

export interface TrafficWindow {
  /** Traffic (warm-up) starts. */
  readonly startUs: number;
  /** Measuring starts: operations scheduled from here on are recorded. */
  readonly measureStartUs: number;
  /** Nothing is scheduled from here on. */
  readonly endUs: number;
}

/** Connections of the shard: open now, the most open at once, and what the ramp achieved. */
export interface ConnectionCounts {
  open: number;
  peakOpen: number;
  rampConnected: number;
  rampRegistered: number;
}

/**
 * What the parts of a shard (ramp, traffic, churn, timeline, inbound) share. Parts keep their own
 * references to what they use per message, so the hot path reads one field, as before the split.
 */
export interface ShardContext {
  readonly init: ShardInit;
  readonly scenario: Scenario;
  readonly peers: ShardPeers;
  readonly rec: Recorder;
  readonly random: Random;
  readonly interval: IntervalCounts;
  readonly connections: ConnectionCounts;
  /** One storm per fault of the scenario (none without faults). */
  readonly storms: StormLedger;
  /** The traffic window, all Infinity until the traffic starts; set in place, so every part sees it. */
  readonly window: { -readonly [K in keyof TrafficWindow]: number };
}

/**
 * A part of the traffic phase (the traffic itself, churn, ...): runs over the window and resolves
 * when its work is done.
 */
export interface WindowPart {
  run(window: TrafficWindow): Promise<void>;
  /** Stops at once: nothing more is scheduled. */
  stop(): void;
}

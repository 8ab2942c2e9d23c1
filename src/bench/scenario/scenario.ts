import { durationMs } from '../../options/duration.js';
import { BenchError } from '../bench-error.js';
import type { BackoffPolicy } from '../../client/backoff.js';
import { MIX_OPS, type Arrival, type FaultAction, type MixOp, type Pattern, type ScenarioFile, type TrafficModel } from './schema.js';

/** A kill or drain of a spawned instance, `atMs` after the traffic starts. */
export interface Fault {
  readonly atMs: number;
  readonly action: FaultAction;
  readonly instance: number;
}

/** How displaced peers come back, and how a storm is watched. */
export interface ReconnectSettings {
  readonly enabled: boolean;
  readonly backoff: BackoffPolicy;
  /** Share of the peers a fault displaces that stay away. */
  readonly abandon: number;
  readonly watchIntervalMs: number;
  readonly watchRooms: number;
}

/** A scenario ready to run: durations in ms, sizes in bytes, the mix normalised. */
export interface Scenario {
  readonly name: string;
  readonly description: string;
  readonly seed: number;
  readonly peers: number;
  /** Generator threads the scenario asks for, or null for the default. */
  readonly threads: number | null;
  readonly rooms: number;
  readonly roomSpread: 'even' | 'zipf';
  readonly urlSpread: 'peer' | 'room';
  readonly crossShare: number;
  readonly roles: {
    readonly workerShare: number;
    readonly workerMetadata: Record<string, unknown>;
    readonly clientMetadata: Record<string, unknown>;
    readonly discoverFilter: Record<string, unknown>;
    readonly presence: boolean;
  };
  readonly connect: { readonly rate: number; readonly maxInFlight: number; readonly timeoutMs: number };
  readonly warmupMs: number;
  readonly durationMs: number;
  readonly drainMs: number;
  readonly traffic: {
    readonly model: TrafficModel;
    /** Closed model: relays each peer keeps outstanding. */
    readonly inFlight: number;
    readonly rate: number;
    readonly arrival: Arrival;
    readonly pattern: Pattern;
    readonly payloadBytes: number;
    /** Normalised weights, in MIX_OPS order, summing to 1 (all 0 when nothing is sent). */
    readonly mix: Readonly<Record<MixOp, number>>;
  };
  readonly churn: { readonly rate: number; readonly downtimeMs: number; readonly graceMs: number; readonly mode: 'close' | 'leave' };
  readonly requestTimeoutMs: number;
  readonly lateAfterMs: number;
  readonly validity: { readonly maxEventLoopP99Ms: number; readonly maxCpu: number; readonly maxLateShare: number };
  readonly server: {
    readonly rateLimit: { perSecond: number; burst: number };
    readonly maxPeersPerRoom: number;
    readonly maxConnections: number;
    /** Extra arguments of every spawned serve. */
    readonly serveArgs: readonly string[];
  };
  /** In time order (checks.ts refuses others). */
  readonly faults: readonly Fault[];
  readonly reconnect: ReconnectSettings;
  readonly thresholds: readonly string[];
}

export interface LoadedScenario {
  /** The complete file as run (defaults filled in, overrides applied). */
  readonly effective: ScenarioFile;
  readonly scenario: Scenario;
  /** Where it came from (a path), or "defaults". */
  readonly source: string;
}

/** The effective file (defaults filled in) as the run uses it. */
export function resolveScenario(f: ScenarioFile): Scenario {
  const t = f.traffic!;
  const r = f.reconnect!;
  const weights = MIX_OPS.map((op) => t.mix![op] ?? 0);
  const total = weights.reduce((a, b) => a + b, 0);
  const mix = Object.fromEntries(MIX_OPS.map((op, i) => [op, total > 0 ? weights[i]! / total : 0])) as Record<MixOp, number>;
  const [rate, burst] = f.server!.rate_limit!.split(':');
  const perSecond = Number(rate);
  return {
    name: f.name!,
    description: f.description ?? '',
    seed: f.seed!,
    peers: f.peers!,
    threads: f.threads ?? null,
    rooms: f.rooms!,
    roomSpread: f.room_spread!,
    urlSpread: f.url_spread!,
    crossShare: f.cross_instance_share!,
    roles: {
      workerShare: f.roles!.worker_share!,
      workerMetadata: f.roles!.worker_metadata!,
      clientMetadata: f.roles!.client_metadata!,
      discoverFilter: f.roles!.discover_filter!,
      presence: f.roles!.presence!,
    },
    connect: { rate: f.connect!.rate!, maxInFlight: f.connect!.max_in_flight!, timeoutMs: ms(f.connect!.timeout!) },
    warmupMs: ms(f.warmup!),
    durationMs: ms(f.duration!),
    drainMs: ms(f.drain!),
    traffic: { model: t.model!, inFlight: t.in_flight!, rate: t.rate!, arrival: t.arrival!, pattern: t.pattern!, payloadBytes: t.payload_bytes!, mix },
    churn: { rate: f.churn!.rate!, downtimeMs: ms(f.churn!.downtime!), graceMs: ms(f.churn!.grace!), mode: f.churn!.mode! },
    requestTimeoutMs: ms(f.request_timeout!),
    lateAfterMs: ms(f.late_after!),
    validity: {
      maxEventLoopP99Ms: ms(f.validity!.max_event_loop_p99!),
      maxCpu: f.validity!.max_cpu!,
      maxLateShare: f.validity!.max_late_share!,
    },
    server: {
      rateLimit: { perSecond, burst: burst !== undefined ? Number(burst) : Math.max(1, Math.ceil(perSecond * 2)) },
      maxPeersPerRoom: f.server!.max_peers_per_room!,
      maxConnections: f.server!.max_connections!,
      serveArgs: f.server!.serve_args ?? [],
    },
    faults: (f.faults ?? []).map((x) => ({ atMs: ms(x.at), action: x.action, instance: x.instance })),
    reconnect: {
      enabled: r.enabled!,
      backoff: { initialDelayMs: ms(r.initial!), maxDelayMs: ms(r.max!), jitter: r.jitter!, maxAttempts: Infinity },
      abandon: r.abandon!,
      watchIntervalMs: ms(r.watch_interval!),
      watchRooms: r.watch_rooms!,
    },
    thresholds: f.thresholds ?? [],
  };
}

/** A duration the schema has let through, in ms. */
function ms(text: string): number {
  const value = durationMs(text);
  if (value === null) throw new BenchError('scenario_invalid', `not a duration: "${text}" (use e.g. 500ms, 10s, 2m)`);
  return value;
}

import { InvalidArgumentError } from 'commander';
import { UsageError } from '../options/usage-error.js';
import type { Scenario } from './scenario/scenario.js';
import { MIX_OPS } from './scenario/schema.js';
import { parseThreshold } from './thresholds.js';
import { defaultThreads } from './thread-split.js';

/**
 * The flags of `bench`: their values, the scenario fields they override, and the checks of the
 * ones that only make sense together (targets, spawning, threads).
 */

export interface BenchFlags {
  svg?: string;
  url?: string[];
  spawn?: number;
  redis?: string;
  prefix?: string;
  spawnNodeOptions?: string;
  threads?: string;
  sourceAddress?: string[];
  peers?: number;
  rooms?: number;
  roomSpread?: string;
  urlSpread?: string;
  crossShare?: number;
  workerShare?: number;
  presence?: boolean;
  connectRate?: number;
  maxInFlight?: number;
  connectTimeout?: string;
  warmup?: string;
  duration?: string;
  drain?: string;
  model?: string;
  inFlight?: number;
  rate?: number;
  arrival?: string;
  pattern?: string;
  payload?: number;
  mix?: Record<string, number>;
  churn?: number;
  churnDowntime?: string;
  churnMode?: string;
  seed?: number;
  serverRateLimit?: string;
  maxEventLoopP99?: string;
  threshold?: string[];
  report?: string;
  /** Old name of --report. */
  json?: string;
  hgrm?: string;
  html?: string;
  quiet?: boolean;
  progress: boolean;
  check?: boolean;
}

/** Flag → scenario path, for overrides and for naming the flag in validation errors. */
const FLAG_PATHS: [keyof BenchFlags, string, string][] = [
  ['peers', '/peers', '--peers'],
  ['rooms', '/rooms', '--rooms'],
  ['roomSpread', '/room_spread', '--room-spread'],
  ['urlSpread', '/url_spread', '--url-spread'],
  ['crossShare', '/cross_instance_share', '--cross-share'],
  ['workerShare', '/roles/worker_share', '--worker-share'],
  ['presence', '/roles/presence', '--presence'],
  ['connectRate', '/connect/rate', '--connect-rate'],
  ['maxInFlight', '/connect/max_in_flight', '--max-in-flight'],
  ['connectTimeout', '/connect/timeout', '--connect-timeout'],
  ['warmup', '/warmup', '--warmup'],
  ['duration', '/duration', '--duration'],
  ['drain', '/drain', '--drain'],
  ['model', '/traffic/model', '--model'],
  ['inFlight', '/traffic/in_flight', '--in-flight'],
  ['rate', '/traffic/rate', '--rate'],
  ['arrival', '/traffic/arrival', '--arrival'],
  ['pattern', '/traffic/pattern', '--pattern'],
  ['payload', '/traffic/payload_bytes', '--payload'],
  ['mix', '/traffic/mix', '--mix'],
  ['churn', '/churn/rate', '--churn'],
  ['churnDowntime', '/churn/downtime', '--churn-downtime'],
  ['churnMode', '/churn/mode', '--churn-mode'],
  ['seed', '/seed', '--seed'],
  ['serverRateLimit', '/server/rate_limit', '--server-rate-limit'],
  ['maxEventLoopP99', '/validity/max_event_loop_p99', '--max-event-loop-p99'],
];

export const collect = (v: string, prev: string[] | undefined) => [...(prev ?? []), v];

/** A --threshold is checked as it is read: a bad one is the flag's fault, not the scenario file's. */
export const collectThreshold = (v: string, prev: string[] | undefined) => {
  try {
    parseThreshold(v);
  } catch (err) {
    throw new InvalidArgumentError(err instanceof Error ? err.message : String(err));
  }
  return collect(v, prev);
};

/** "relay=8,discover=1,offer_answer=1": weights; operations not named get 0. */
export function parseMix(value: string): Record<string, number> {
  const mix: Record<string, number> = Object.fromEntries(MIX_OPS.map((op) => [op, 0]));
  for (const part of value.split(',')) {
    const m = /^\s*([a-z_]+)\s*[=:]\s*(\d+(?:\.\d+)?)\s*$/.exec(part);
    if (!m || !(MIX_OPS as readonly string[]).includes(m[1]!)) {
      throw new InvalidArgumentError(`expected OP=WEIGHT,... with OP one of ${MIX_OPS.join(', ')}; got "${value}"`);
    }
    mix[m[1]!] = Number(m[2]);
  }
  return mix;
}

function setPath(target: Record<string, unknown>, path: string, value: unknown): void {
  const parts = path.split('/').filter(Boolean);
  let node = target;
  for (const part of parts.slice(0, -1)) {
    node[part] ??= {};
    node = node[part] as Record<string, unknown>;
  }
  node[parts[parts.length - 1]!] = value;
}

/** The scenario fields the flags set, and the flag that set each (named in validation errors). */
export function scenarioOverrides(flags: BenchFlags): { overrides: Record<string, unknown>; flagNames: Record<string, string> } {
  const overrides: Record<string, unknown> = {};
  const flagNames: Record<string, string> = {};
  for (const [key, path, flag] of FLAG_PATHS) {
    if (flags[key] === undefined) continue;
    flagNames[path] = flag;
    setPath(overrides, path, flags[key]);
  }
  if (flags.threshold) overrides.thresholds = flags.threshold;
  return { overrides, flagNames };
}

/** The targets: the --url list (empty with --spawn), once the target flags agree. */
export function checkTargets(flags: BenchFlags): string[] {
  const urls = flags.url ?? [];
  if (flags.spawn !== undefined && urls.length > 0) throw new UsageError('give --url or --spawn, not both');
  if (flags.spawn === undefined && urls.length === 0) throw new UsageError('bench needs a target: --url ws://host:port (repeatable) or --spawn N');
  if (flags.spawnNodeOptions !== undefined && flags.spawn === undefined) throw new UsageError('--spawn-node-options goes with --spawn');
  if (flags.redis !== undefined && flags.spawn === undefined) throw new UsageError('--redis goes with --spawn (the servers given with --url bring their own state)');
  if (flags.redis !== undefined && !/^rediss?:\/\//.test(flags.redis)) throw new UsageError(`--redis must be a redis:// URL, got "${flags.redis}"`);
  if (flags.spawn !== undefined && flags.spawn > 1 && flags.redis === undefined) {
    throw new UsageError(`--spawn ${flags.spawn} needs --redis URL: instances share state only through Redis`);
  }
  for (const u of urls) {
    if (!/^wss?:\/\/[^/]+/.test(u)) throw new UsageError(`--url must be ws://host:port or wss://..., got "${u}"`);
  }
  return urls;
}

/** Generator threads: --threads, else the scenario's, else the default for its size. */
export function threadsOf(flags: BenchFlags, scenario: Scenario): number {
  if (flags.threads === undefined || flags.threads === 'auto') return scenario.threads ?? defaultThreads(scenario.peers);
  if (/^\d+$/.test(flags.threads) && Number(flags.threads) >= 1 && Number(flags.threads) <= 64) return Number(flags.threads);
  throw new UsageError(`--threads must be a number from 1 to 64, or auto; got "${flags.threads}"`);
}

/** A scenario's faults act on spawned instances, and displaced peers need another instance to go to. */
export function checkFaults(flags: BenchFlags, scenario: Scenario): void {
  const faults = scenario.faults;
  if (faults.length === 0) return;
  const what = `scenario ${scenario.name} kills or drains instances (faults)`;
  if (flags.spawn === undefined) throw new UsageError(`${what}: it needs instances the bench starts itself, --spawn N --redis URL (N >= 2)`);
  if (flags.spawn < 2) throw new UsageError(`${what}: --spawn ${flags.spawn} leaves the displaced peers nowhere to go; use --spawn 2 or more with --redis URL`);
  const beyond = faults.find((f) => f.instance >= flags.spawn!);
  if (beyond) throw new UsageError(`${what}: a fault acts on instance ${beyond.instance}, but --spawn ${flags.spawn} starts instances 0 to ${flags.spawn - 1}`);
  if (faults.length >= flags.spawn) throw new UsageError(`${what}: its ${faults.length} faults leave none of the ${flags.spawn} instances for the displaced peers; spawn more`);
}

import { readFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { basename, extname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Type, type Static, type TSchema } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';
import { UsageError } from '../options/usage-error.js';
import { parseThreshold } from './thresholds.js';

/**
 * Scenario files: what a bench run does, as JSON. Every field is optional (defaults below);
 * command-line flags override the file. The TypeBox schema doubles as the published JSON Schema
 * (scenarios/scenario.schema.json).
 */

const Duration = (description: string) =>
  Type.String({ pattern: '^\\d+(\\.\\d+)?(us|ms|s|m|h)$', description: `${description} (a duration: "500ms", "10s", "2m")` });
const Share = (description: string) => Type.Number({ minimum: 0, maximum: 1, description });
const Metadata = (description: string) => Type.Record(Type.String(), Type.Unknown(), { description });
const Section = <T extends Parameters<typeof Type.Object>[0]>(properties: T, description: string) =>
  Type.Optional(Type.Object(properties, { additionalProperties: false, description }));

export const PATTERNS = ['pairs', 'worker-client', 'fanout'] as const;
export const ARRIVALS = ['fixed', 'poisson'] as const;
export const MIX_OPS = ['relay', 'discover', 'update_metadata', 'offer_answer'] as const;
export const TRAFFIC_MODELS = ['open', 'closed'] as const;
export type TrafficModel = (typeof TRAFFIC_MODELS)[number];
export type Pattern = (typeof PATTERNS)[number];
export type Arrival = (typeof ARRIVALS)[number];
export type MixOp = (typeof MIX_OPS)[number];

export const ScenarioSchema = Type.Object(
  {
    $schema: Type.Optional(Type.String({ description: 'JSON Schema of this file (for editors); ignored by the bench' })),
    name: Type.Optional(Type.String({ minLength: 1, maxLength: 64, pattern: '^[A-Za-z0-9._-]+$', description: 'short name (defaults to the file name)' })),
    description: Type.Optional(Type.String({ description: 'what the scenario is for' })),
    seed: Type.Optional(Type.Integer({ minimum: 0, maximum: 4294967295, description: 'seed of every random choice: the same seed gives the same placement and schedule' })),
    peers: Type.Optional(Type.Integer({ minimum: 1, maximum: 1_000_000, description: 'simulated peers, one WebSocket each' })),
    threads: Type.Optional(
      Type.Integer({ minimum: 1, maximum: 64, description: 'generator threads (--threads overrides); unset: 1 below 5,000 peers, else 2' }),
    ),
    rooms: Type.Optional(Type.Integer({ minimum: 1, maximum: 1_000_000, description: 'rooms the peers are spread over' })),
    room_spread: Type.Optional(
      Type.Union([Type.Literal('even'), Type.Literal('zipf')], { description: 'room sizes: even (differ by at most one) or zipf (a few large rooms, many small)' }),
    ),
    url_spread: Type.Optional(
      Type.Union([Type.Literal('peer'), Type.Literal('room')], {
        description: 'with several URLs: spread peers over them one by one (peer), or keep each room on one URL except the peers placed across (room)',
      }),
    ),
    cross_instance_share: Type.Optional(Share('with several URLs: share of relayed messages whose sender and receiver are on different instances')),
    roles: Section(
      {
        worker_share: Type.Optional(Share('share of the peers that are workers (role "worker"); the rest are clients (role "client")')),
        worker_metadata: Type.Optional(Metadata('metadata workers register with')),
        client_metadata: Type.Optional(Metadata('metadata clients register with')),
        discover_filter: Type.Optional(Metadata('filters of discover_peers (clients looking for workers)')),
        presence: Type.Optional(Type.Boolean({ description: 'peers subscribe to presence events (peer_joined / peer_updated / peer_left)' })),
      },
      'role mix',
    ),
    connect: Section(
      {
        rate: Type.Optional(Type.Number({ exclusiveMinimum: 0, description: 'new connections per second during the ramp' })),
        max_in_flight: Type.Optional(Type.Integer({ minimum: 1, description: 'most handshakes (connect + register) in flight at once' })),
        timeout: Type.Optional(Duration('connect (TCP + upgrade) and register timeout')),
      },
      'connect ramp',
    ),
    warmup: Type.Optional(Duration('traffic runs this long before measuring starts')),
    duration: Type.Optional(Duration('measured traffic')),
    drain: Type.Optional(Duration('after the traffic stops, wait at most this long for messages in flight')),
    traffic: Section(
      {
        model: Type.Optional(
          Type.Union([Type.Literal('open'), Type.Literal('closed')], {
            description:
              'open: every peer sends on its own schedule at traffic.rate, whatever the server does (latency under a given load); closed: every peer keeps traffic.in_flight relays outstanding and sends the next as soon as one arrives (maximum throughput; traffic.rate is ignored)',
          }),
        ),
        in_flight: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000, description: 'closed model: relays each peer keeps outstanding' })),
        rate: Type.Optional(Type.Number({ minimum: 0, maximum: 10_000, description: 'operations per second per peer (open model)' })),
        arrival: Type.Optional(Type.Union([Type.Literal('fixed'), Type.Literal('poisson')], { description: 'arrival process of each peer: fixed interval or Poisson' })),
        pattern: Type.Optional(
          Type.Union([Type.Literal('pairs'), Type.Literal('worker-client'), Type.Literal('fanout')], {
            description: 'who relays to whom: pairs (fixed partners), worker-client (clients and their worker), fanout (one message to every other peer of the room)',
          }),
        ),
        payload_bytes: Type.Optional(Type.Integer({ minimum: 32, maximum: 900_000, description: 'size of each relayed payload (JSON bytes)' })),
        mix: Section(
          {
            relay: Type.Optional(Type.Number({ minimum: 0, description: 'weight of peer_message relays' })),
            discover: Type.Optional(Type.Number({ minimum: 0, description: 'weight of discover_peers round trips' })),
            update_metadata: Type.Optional(Type.Number({ minimum: 0, description: 'weight of update_metadata round trips' })),
            offer_answer: Type.Optional(Type.Number({ minimum: 0, description: 'weight of offer → answer round trips' })),
          },
          'share of each operation (weights, normalised)',
        ),
      },
      'message workload',
    ),
    churn: Section(
      {
        rate: Type.Optional(Type.Number({ minimum: 0, description: 'peers leaving (and coming back) per second' })),
        downtime: Type.Optional(Duration('how long a churned peer stays away')),
        grace: Type.Optional(Duration('a leaving peer stops being a target this long before it goes (so messages in flight land)')),
        mode: Type.Optional(Type.Union([Type.Literal('close'), Type.Literal('leave')], { description: 'close the socket and reconnect, or send leave and register again' })),
      },
      'peers leaving and joining during the traffic',
    ),
    request_timeout: Type.Optional(Duration('a request (register, discover, update_metadata, offer) unanswered this long is an error')),
    late_after: Type.Optional(Duration('a send this late against its schedule counts as behind schedule')),
    validity: Section(
      {
        max_event_loop_p99: Type.Optional(Duration("the run is invalid when the generator's event-loop delay p99 exceeds this")),
        max_cpu: Type.Optional(Type.Number({ exclusiveMinimum: 0, maximum: 1, description: 'the run is invalid when the generator used more than this share of its threads’ CPU' })),
        max_late_share: Type.Optional(Share('the run is invalid when more than this share of the sends fell behind schedule')),
      },
      'when the generator, not the server, was the bottleneck',
    ),
    server: Section(
      {
        rate_limit: Type.Optional(Type.String({ pattern: '^\\d+(\\.\\d+)?(:\\d+)?$', description: "the target's per-connection rate limit, RATE[:BURST] (--spawn starts servers with it)" })),
        max_peers_per_room: Type.Optional(Type.Integer({ minimum: 1, description: "the target's room size limit (--spawn starts servers with it)" })),
        max_connections: Type.Optional(Type.Integer({ minimum: 1, description: "the target's connection limit per instance (--spawn starts servers with it)" })),
      },
      'what the scenario assumes of the target servers',
    ),
    thresholds: Type.Optional(Type.Array(Type.String(), { description: 'pass/fail conditions, e.g. "relay.p99<20ms", "errors==0", "lost<0.1%"' })),
  },
  { additionalProperties: false, title: 'sleap-signal bench scenario' },
);

export type ScenarioFile = Static<typeof ScenarioSchema>;

export const DEFAULT_WORKER_METADATA = {
  tags: ['sleap-rtc', 'gpu'],
  properties: { gpu_model: 'A100', gpu_memory_mb: 40960, sleap_version: '1.4.1', status: 'available' },
};
export const DEFAULT_CLIENT_METADATA = { tags: ['sleap-rtc'], properties: { app: 'sleap-rtc-client' } };
export const DEFAULT_DISCOVER_FILTER = { role: 'worker', tags: ['gpu'] };

/** Every field filled in: what a run actually used (written into the JSON report). */
export const SCENARIO_DEFAULTS = {
  seed: 1,
  peers: 10,
  rooms: 1,
  room_spread: 'even',
  url_spread: 'peer',
  cross_instance_share: 0.5,
  roles: { worker_share: 0.2, worker_metadata: DEFAULT_WORKER_METADATA, client_metadata: DEFAULT_CLIENT_METADATA, discover_filter: DEFAULT_DISCOVER_FILTER, presence: false },
  connect: { rate: 500, max_in_flight: 100, timeout: '10s' },
  warmup: '2s',
  duration: '10s',
  drain: '3s',
  traffic: { model: 'open', in_flight: 1, rate: 1, arrival: 'poisson', pattern: 'pairs', payload_bytes: 256, mix: { relay: 1, discover: 0, update_metadata: 0, offer_answer: 0 } },
  churn: { rate: 0, downtime: '2s', grace: '500ms', mode: 'close' },
  request_timeout: '5s',
  late_after: '10ms',
  validity: { max_event_loop_p99: '50ms', max_cpu: 0.95, max_late_share: 0.01 },
  server: { rate_limit: '100:200', max_peers_per_room: 1000, max_connections: 50000 },
  thresholds: [] as string[],
} as const;

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
  readonly server: { readonly rateLimit: { perSecond: number; burst: number }; readonly maxPeersPerRoom: number; readonly maxConnections: number };
  readonly thresholds: readonly string[];
}

export interface LoadedScenario {
  /** The complete file as run (defaults filled in, overrides applied). */
  readonly effective: ScenarioFile;
  readonly scenario: Scenario;
  /** Where it came from (a path), or "defaults". */
  readonly source: string;
}

/** Directory of the scenarios shipped with the package. */
export const SCENARIO_DIR = fileURLToPath(new URL('../../scenarios/', import.meta.url));

/** JSON Schema of scenario files (draft 2020-12). */
export function scenarioJsonSchema(): Record<string, unknown> {
  return {
    $schema: 'https://json-schema.org/draft/2020-12/schema',
    $id: 'https://sleap.ai/schemas/sleap-signal/bench-scenario-v1.json',
    ...(JSON.parse(JSON.stringify(ScenarioSchema)) as Record<string, unknown>),
  };
}

/** Finds a scenario: a path, or the name of a shipped scenario ("smoke", "churn", ...). */
export function resolveScenarioPath(spec: string): string {
  if (existsSync(spec)) return spec;
  const shipped = `${SCENARIO_DIR}${spec.replace(/\.json$/, '')}.json`;
  if (!spec.includes('/') && existsSync(shipped)) return shipped;
  throw new UsageError(`scenario file not found: ${spec} (shipped scenarios: ${shippedScenarioNames().join(', ')})`);
}

export function shippedScenarioNames(): string[] {
  return ['smoke', 'small-lab', 'research-team', '10k-connections', 'cross-instance', 'churn', 'discovery-heavy'];
}

/** Reads, merges flag overrides into, validates and resolves a scenario. */
export async function loadScenario(spec: string | undefined, overrides: Record<string, unknown> = {}, flagNames: Record<string, string> = {}): Promise<LoadedScenario> {
  let raw: unknown = {};
  let source = 'defaults';
  if (spec !== undefined) {
    source = resolveScenarioPath(spec);
    const text = await readFile(source, 'utf8');
    try {
      raw = JSON.parse(text);
    } catch (err) {
      throw new UsageError(`${source}: not valid JSON: ${err instanceof Error ? err.message : String(err)}`);
    }
  }
  const fallbackName = spec === undefined ? 'adhoc' : basename(source, extname(source));
  return validateScenario(raw, { source, overrides, flagNames, fallbackName });
}

/**
 * Validates a scenario (as parsed JSON) with overrides merged in; throws a UsageError that lists
 * every problem, each with its place in the file (or the flag that set it).
 */
export function validateScenario(
  raw: unknown,
  options: { source?: string; overrides?: Record<string, unknown>; flagNames?: Record<string, string>; fallbackName?: string } = {},
): LoadedScenario {
  const source = options.source ?? 'scenario';
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    throw new UsageError(`${source}: a scenario is a JSON object, got ${Array.isArray(raw) ? 'an array' : typeof raw}`);
  }
  const merged = deepMerge(raw as Record<string, unknown>, options.overrides ?? {});
  const where = (path: string) => {
    const flag = options.flagNames?.[path];
    return flag ? `${flag} (${path})` : path || '/';
  };
  const problems: string[] = [];
  const seen = new Set<string>();
  for (const error of Value.Errors(ScenarioSchema, merged)) {
    if (seen.has(error.path)) continue;
    seen.add(error.path);
    let message = error.message;
    if (message === 'Unexpected property') {
      const key = error.path.split('/').pop() ?? '';
      const parent = error.path.slice(0, error.path.length - key.length - 1);
      const hint = closest(key, knownKeys(parent));
      message = `unknown key "${key}"${hint ? ` (did you mean "${hint}"?)` : ''}`;
    } else {
      const schema = schemaAt(error.path) as (TSchema & { anyOf?: { const?: unknown }[] }) | undefined;
      const choices = schema?.anyOf?.map((s) => s.const).filter((c) => c !== undefined);
      if (schema?.description?.includes('(a duration:') && message.startsWith('Expected string to match')) {
        message = `expected a duration like "500ms", "10s", "2m", got ${JSON.stringify(valueAt(merged, error.path))}`;
      }
      if (choices && choices.length > 0) message = `expected one of ${choices.map((c) => JSON.stringify(c)).join(', ')}, got ${JSON.stringify(valueAt(merged, error.path))}`;
      if (schema?.description) message += ` — ${schema.description}`;
    }
    problems.push(`${where(error.path)}: ${message}`);
    if (problems.length >= 20) break;
  }
  if (problems.length > 0) throw new UsageError(`${source}: invalid scenario:\n  ${problems.join('\n  ')}`);

  const file = merged as ScenarioFile;
  const effective = fillDefaults(file, options.fallbackName ?? 'adhoc');
  const scenario = resolve(effective);
  problems.push(...semanticProblems(scenario, effective).map((p) => `${p.path ? `${where(p.path)}: ` : ''}${p.message}`));
  if (problems.length > 0) throw new UsageError(`${source}: invalid scenario:\n  ${problems.join('\n  ')}`);
  return { effective, scenario, source };
}

function fillDefaults(file: ScenarioFile, fallbackName: string): ScenarioFile {
  const d = SCENARIO_DEFAULTS;
  const { $schema: _schema, ...rest } = file;
  const filled = deepMerge(JSON.parse(JSON.stringify(d)) as Record<string, unknown>, rest as Record<string, unknown>) as ScenarioFile;
  // Metadata and filters are values, not settings: a file's metadata replaces the default whole.
  const roles = { ...filled.roles! };
  if (file.roles?.worker_metadata) roles.worker_metadata = file.roles.worker_metadata;
  if (file.roles?.client_metadata) roles.client_metadata = file.roles.client_metadata;
  if (file.roles?.discover_filter) roles.discover_filter = file.roles.discover_filter;
  const thresholds = file.thresholds ?? [];
  return { name: file.name ?? fallbackName, description: file.description ?? '', ...filled, roles, thresholds };
}

function resolve(f: ScenarioFile): Scenario {
  const t = f.traffic!;
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
    connect: { rate: f.connect!.rate!, maxInFlight: f.connect!.max_in_flight!, timeoutMs: durationMs(f.connect!.timeout!) },
    warmupMs: durationMs(f.warmup!),
    durationMs: durationMs(f.duration!),
    drainMs: durationMs(f.drain!),
    traffic: { model: t.model!, inFlight: t.in_flight!, rate: t.rate!, arrival: t.arrival!, pattern: t.pattern!, payloadBytes: t.payload_bytes!, mix },
    churn: { rate: f.churn!.rate!, downtimeMs: durationMs(f.churn!.downtime!), graceMs: durationMs(f.churn!.grace!), mode: f.churn!.mode! },
    requestTimeoutMs: durationMs(f.request_timeout!),
    lateAfterMs: durationMs(f.late_after!),
    validity: {
      maxEventLoopP99Ms: durationMs(f.validity!.max_event_loop_p99!),
      maxCpu: f.validity!.max_cpu!,
      maxLateShare: f.validity!.max_late_share!,
    },
    server: {
      rateLimit: { perSecond, burst: burst !== undefined ? Number(burst) : Math.max(1, Math.ceil(perSecond * 2)) },
      maxPeersPerRoom: f.server!.max_peers_per_room!,
      maxConnections: f.server!.max_connections!,
    },
    thresholds: f.thresholds ?? [],
  };
}

const UNITS: Record<string, number> = { us: 0.001, ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/** "10s" → 10000 (ms); the units of scenario durations: us, ms, s, m, h. */
export function durationMs(text: string): number {
  const m = /^(\d+(?:\.\d+)?)(us|ms|s|m|h)$/.exec(text.trim());
  if (!m) throw new UsageError(`not a duration: "${text}" (use e.g. 500ms, 10s, 2m)`);
  return Number(m[1]) * UNITS[m[2]!]!;
}

/** Largest room the placement will make (zipf makes the first room the largest). */
export function largestRoom(s: Scenario): number {
  if (s.roomSpread === 'even') return Math.ceil(s.peers / s.rooms);
  return zipfSizes(s.peers, s.rooms, s.server.maxPeersPerRoom)[0] ?? 0;
}

/** Room sizes proportional to 1/(k+1), each at least min(2, ...) and at most `cap`, summing to `peers`. */
export function zipfSizes(peers: number, rooms: number, cap: number): number[] {
  const weights = Array.from({ length: rooms }, (_, k) => 1 / (k + 1));
  const total = weights.reduce((a, b) => a + b, 0);
  const floor = Math.min(2, Math.floor(peers / rooms));
  const sizes = weights.map((w) => Math.min(cap, Math.max(floor, Math.floor((peers * w) / total))));
  let sum = sizes.reduce((a, b) => a + b, 0);
  for (let k = 0; sum < peers; k = (k + 1) % rooms) {
    if (sizes.every((s) => s >= cap)) break;
    if (sizes[k]! < cap) {
      sizes[k]!++;
      sum++;
    }
  }
  for (let k = 0; sum > peers; k = (k + 1) % rooms) {
    if (sizes[k]! > floor) {
      sizes[k]!--;
      sum--;
    }
  }
  return sizes;
}

/**
 * Frames per second the busiest connection sends, on average: its own operations, the relays
 * of a fan-out, and the answers to offers it receives.
 */
export function framesPerSecondPerPeer(s: Scenario): number {
  const { rate, mix, pattern } = s.traffic;
  const room = largestRoom(s);
  const relayFrames = pattern === 'fanout' ? Math.max(0, room - 1) : 1;
  const own = rate * (mix.relay * relayFrames + mix.discover + mix.update_metadata + mix.offer_answer);
  let answers = rate * mix.offer_answer;
  if (pattern === 'worker-client') {
    const workers = Math.max(1, Math.round(room * s.roles.workerShare));
    answers *= Math.max(1, Math.ceil((room - workers) / workers));
  }
  return own + answers;
}

function semanticProblems(s: Scenario, f: ScenarioFile): { path: string; message: string }[] {
  const out: { path: string; message: string }[] = [];
  if (s.rooms > s.peers) out.push({ path: '/rooms', message: `${s.rooms} rooms for ${s.peers} peers: every room needs a peer` });
  const room = largestRoom(s);
  if (room > s.server.maxPeersPerRoom) {
    out.push({
      path: '/rooms',
      message: `rooms of up to ${room} peers exceed the server's limit of ${s.server.maxPeersPerRoom} (ROOM_FULL): use more rooms, or raise server.max_peers_per_room`,
    });
  }
  const closed = s.traffic.model === 'closed';
  const sends = (closed || s.traffic.rate > 0) && (s.durationMs > 0 || s.warmupMs > 0);
  if (closed) {
    if (s.traffic.mix.relay < 1) out.push({ path: '/traffic/mix', message: 'the closed model drives relays only: set every other weight to 0' });
    if (s.traffic.pattern === 'fanout') out.push({ path: '/traffic/pattern', message: 'the closed model sends one relay per arrival: use pairs or worker-client' });
    if (s.churn.rate > 0) out.push({ path: '/churn/rate', message: 'the closed model runs without churn (a peer that leaves would stall its relays in flight)' });
  }
  const mixTotal = MIX_OPS.reduce((a, op) => a + (f.traffic?.mix?.[op] ?? 0), 0);
  if (sends && mixTotal <= 0) out.push({ path: '/traffic/mix', message: 'every weight is 0: nothing would be sent (set traffic.rate to 0 for a connections-only run)' });
  if (s.durationMs <= 0) out.push({ path: '/duration', message: 'must be longer than 0' });
  const needsTargets = s.traffic.mix.relay > 0 || s.traffic.mix.offer_answer > 0;
  if (sends && needsTargets) {
    const smallest = s.roomSpread === 'even' ? Math.floor(s.peers / s.rooms) : Math.min(...zipfSizes(s.peers, s.rooms, s.server.maxPeersPerRoom));
    if (smallest < 2) out.push({ path: '/rooms', message: `rooms of ${smallest} peer: relays need at least 2 peers per room (fewer rooms, or more peers)` });
    if (s.traffic.pattern === 'worker-client' && (s.roles.workerShare <= 0 || s.roles.workerShare >= 1)) {
      out.push({ path: '/roles/worker_share', message: 'the worker-client pattern needs both workers and clients: a share above 0 and below 1' });
    }
  }
  if (sends && !closed) {
    const fps = framesPerSecondPerPeer(s);
    const limit = s.server.rateLimit.perSecond;
    if (fps > 0.8 * limit) {
      out.push({
        path: '/traffic/rate',
        message:
          `peers would send about ${fps.toFixed(1)} frames/s each, too close to the server's rate limit of ${limit}/s per connection (RATE_LIMITED): ` +
          'lower traffic.rate, or raise server.rate_limit (--spawn starts the servers with it; a server you run yourself needs serve --rate-limit)',
      });
    }
  }
  if (s.churn.rate > 0 && s.churn.graceMs + s.churn.downtimeMs >= s.durationMs + s.warmupMs) {
    out.push({ path: '/churn/downtime', message: 'grace + downtime is longer than the traffic: churned peers would never come back' });
  }
  (f.thresholds ?? []).forEach((expr, i) => {
    try {
      parseThreshold(expr);
    } catch (err) {
      out.push({ path: `/thresholds/${i}`, message: err instanceof Error ? err.message : String(err) });
    }
  });
  return out;
}

function deepMerge(base: Record<string, unknown>, over: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = { ...base };
  for (const [key, value] of Object.entries(over)) {
    if (value === undefined) continue;
    const prior = out[key];
    if (key === 'thresholds' && Array.isArray(prior) && Array.isArray(value)) out[key] = [...prior, ...value];
    else if (isObject(prior) && isObject(value)) out[key] = deepMerge(prior, value);
    else out[key] = value;
  }
  return out;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function valueAt(root: unknown, path: string): unknown {
  let node = root;
  for (const part of path.split('/').filter(Boolean)) node = (node as Record<string, unknown> | undefined)?.[part];
  return node;
}

function schemaAt(path: string): TSchema | undefined {
  let schema: TSchema | undefined = ScenarioSchema;
  for (const part of path.split('/').filter(Boolean)) {
    const props: Record<string, TSchema> | undefined = (schema as { properties?: Record<string, TSchema> } | undefined)?.properties;
    schema = props?.[part];
    if (schema === undefined) return undefined;
  }
  return schema;
}

function knownKeys(parentPath: string): string[] {
  const schema = schemaAt(parentPath) as { properties?: Record<string, unknown> } | undefined;
  return Object.keys(schema?.properties ?? {});
}

function closest(word: string, candidates: readonly string[]): string | null {
  let best: string | null = null;
  let bestDistance = Infinity;
  for (const c of candidates) {
    const d = editDistance(word.toLowerCase(), c.toLowerCase());
    if (d < bestDistance) {
      bestDistance = d;
      best = c;
    }
  }
  return best !== null && bestDistance <= Math.max(2, Math.floor(word.length / 3)) ? best : null;
}

function editDistance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    let prev = row[0]!;
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const tmp = row[j]!;
      row[j] = Math.min(row[j]! + 1, row[j - 1]! + 1, prev + (a[i - 1] === b[j - 1] ? 0 : 1));
      prev = tmp;
    }
  }
  return row[b.length]!;
}

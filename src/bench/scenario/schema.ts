import { Type, type Static } from '@sinclair/typebox';
import { DURATION_PATTERN } from '../../options/duration.js';

/**
 * The scenario file format: what a bench run does, as JSON. Every field is optional (defaults in
 * defaults.ts); command-line flags override the file. The TypeBox schema doubles as the published
 * JSON Schema (scenarios/scenario.schema.json).
 */

const Duration = (description: string) => Type.String({ pattern: DURATION_PATTERN, description: `${description} (a duration: "500ms", "10s", "2m")` });
const Share = (description: string) => Type.Number({ minimum: 0, maximum: 1, description });
const Metadata = (description: string) => Type.Record(Type.String(), Type.Unknown(), { description });
const Section = <T extends Parameters<typeof Type.Object>[0]>(properties: T, description: string) =>
  Type.Optional(Type.Object(properties, { additionalProperties: false, description }));

export const PATTERNS = ['pairs', 'worker-client', 'fanout'] as const;
export const ARRIVALS = ['fixed', 'poisson'] as const;
export const MIX_OPS = ['relay', 'discover', 'update_metadata', 'offer_answer'] as const;
export const TRAFFIC_MODELS = ['open', 'closed'] as const;
export const FAULT_ACTIONS = ['kill', 'drain'] as const;
export type FaultAction = (typeof FAULT_ACTIONS)[number];
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
        serve_args: Type.Optional(
          Type.Array(Type.String(), {
            description: 'extra arguments of every serve that --spawn starts, after the bench\'s own (so they override them), e.g. ["--reap-after", "5s", "--drain-timeout", "3s"]',
          }),
        ),
      },
      'what the scenario assumes of the target servers',
    ),
    faults: Type.Optional(
      Type.Array(
        Type.Object(
          {
            at: Duration('when, measured from the start of the traffic (the start of the warm-up)'),
            action: Type.Union([Type.Literal('kill'), Type.Literal('drain')], {
              description: 'kill: SIGKILL (sockets cut at once, the records left to the reaper); drain: SIGTERM (1012 closes spread over the drain timeout, then exit)',
            }),
            instance: Type.Integer({ minimum: 0, maximum: 15, description: 'which spawned instance: 0 .. N-1 of --spawn N' }),
          },
          { additionalProperties: false },
        ),
        { description: 'instances the bench kills or drains while the traffic runs (needs --spawn, at least 2 instances); each starts a storm the report describes' },
      ),
    ),
    reconnect: Section(
      {
        enabled: Type.Optional(Type.Boolean({ description: 'a peer whose connection closes (not on purpose) reconnects and registers again as the real clients do' })),
        initial: Type.Optional(Duration('backoff: the delay before the first attempt (doubling per attempt)')),
        max: Type.Optional(Duration('backoff: the longest delay')),
        jitter: Type.Optional(Share('backoff: the share of each delay drawn at random')),
        abandon: Type.Optional(Share('share of the peers displaced by a fault that do not come back (to measure how long discovery still lists them)')),
        watch_interval: Type.Optional(Duration('during a storm, a watcher peer in each watched room discovers this often')),
        watch_rooms: Type.Optional(Type.Integer({ minimum: 0, description: 'rooms watched per storm (rooms with abandoned peers first); 0: none' })),
      },
      'how peers come back after their connection closed: same peer_id, room, role and metadata, with their session token',
    ),
    thresholds: Type.Optional(Type.Array(Type.String(), { description: 'pass/fail conditions, e.g. "relay.p99<20ms", "errors==0", "lost<0.1%"' })),
  },
  { additionalProperties: false, title: 'sleap-signal bench scenario' },
);

export type ScenarioFile = Static<typeof ScenarioSchema>;

/** JSON Schema of scenario files (draft 2020-12). */
export function scenarioJsonSchema(): Record<string, unknown> {
  return {
    $schema: 'https://json-schema.org/draft/2020-12/schema',
    $id: 'https://sleap.ai/schemas/sleap-signal/bench-scenario-v1.json',
    ...(JSON.parse(JSON.stringify(ScenarioSchema)) as Record<string, unknown>),
  };
}

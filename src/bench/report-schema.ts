import { Type, type Static } from '@sinclair/typebox';
import { ScenarioSchema } from './scenario/schema.js';
import { StormReportSchema } from './storm-report.js';

/** Exit code of a run that crossed a threshold (as k6): 2 stays bad usage, 1 a tool error. */
export const THRESHOLD_FAILED = 99;

/**
 * The JSON report of a run (`bench --json FILE`), version 1. Histograms are HdrHistogram V2
 * compressed base64 (microseconds), the format every HdrHistogram implementation reads, so
 * reports of several runs (or generators) can be merged and re-analysed.
 */

export const REPORT_SCHEMA_ID = 'sleap-signal-bench-report';
export const REPORT_VERSION = 1;

const Count = (description: string) => Type.Integer({ minimum: 0, description });
const Num = (description: string) => Type.Number({ description });

export const OperationStatsSchema = Type.Object(
  {
    count: Count('samples recorded'),
    rate_per_s: Num('count per second of the window it was measured over'),
    mean_us: Num('mean latency, µs'),
    p50_us: Num('median latency, µs'),
    p90_us: Num('90th percentile, µs'),
    p99_us: Num('99th percentile, µs'),
    p999_us: Num('99.9th percentile, µs'),
    max_us: Num('largest latency, µs'),
    histogram: Type.String({ description: 'HdrHistogram V2 compressed base64 of the latencies in µs (mergeable)' }),
  },
  { additionalProperties: false },
);

export const ThresholdResultSchema = Type.Object(
  {
    expression: Type.String(),
    ok: Type.Boolean(),
    actual: Type.Union([Type.Number(), Type.Null()], { description: 'measured value in the unit of the expression; null when nothing was measured' }),
    limit: Type.Number(),
    unit: Type.String(),
    detail: Type.String(),
  },
  { additionalProperties: false },
);

export const TimelinePointSchema = Type.Object(
  {
    t_s: Count('second since the run started'),
    phase: Type.Union([Type.Literal('ramp'), Type.Literal('warmup'), Type.Literal('measure'), Type.Literal('drain')]),
    open: Count('connections open at the end of this second'),
    registered: Count('peers registered at the end of this second'),
    relays_sent: Count('relays sent within this second'),
    relays_received: Count('relays received within this second'),
    ops: Count('operations sent within this second'),
    errors: Count('errors within this second'),
    relay_p50_us: Type.Union([Type.Number(), Type.Null()]),
    relay_p99_us: Type.Union([Type.Number(), Type.Null()]),
    event_loop_p99_ms: Num('worst generator thread'),
    cpu: Num('generator process CPU, share of one core'),
  },
  { additionalProperties: false },
);

export const ReportSchema = Type.Object(
  {
    schema: Type.Literal(REPORT_SCHEMA_ID),
    version: Type.Literal(REPORT_VERSION),
    tool: Type.Object({ name: Type.String(), version: Type.String(), node: Type.String() }, { additionalProperties: false }),
    run: Type.Object(
      {
        id: Type.String(),
        scenario: Type.String(),
        source: Type.String({ description: 'scenario file (or "defaults")' }),
        started_at: Type.String({ description: 'ISO 8601' }),
        finished_at: Type.String({ description: 'ISO 8601' }),
        targets: Type.Array(Type.String()),
        spawned: Type.Union([
          Type.Null(),
          Type.Object(
            {
              instances: Type.Integer({ minimum: 1 }),
              backend: Type.Union([Type.Literal('memory'), Type.Literal('redis')]),
              ready_ms: Type.Array(Type.Number({ minimum: 0 }), { description: 'per instance: launch until it answered /health with 200 (polled every 10 ms)' }),
              cpu: Type.Optional(
                Type.Object(
                  {
                    instances: Type.Array(Type.Union([Num(''), Type.Null()]), { description: 'per instance: CPU over the measured window, as a share of one core (all threads; Linux /proc)' }),
                    redis: Type.Union([Num('CPU of the Redis server over the measured window, share of one core (INFO cpu)'), Type.Null()]),
                  },
                  { additionalProperties: false },
                ),
              ),
            },
            { additionalProperties: false },
          ),
        ]),
        threads: Type.Integer({ minimum: 1 }),
        host: Type.String(),
        cpus: Type.Integer({ minimum: 1 }),
      },
      { additionalProperties: false },
    ),
    scenario: ScenarioSchema,
    phases: Type.Object(
      { ramp_s: Num(''), warmup_s: Num(''), measure_s: Num(''), drain_s: Num(''), total_s: Num('') },
      { additionalProperties: false, description: 'how long each phase took' },
    ),
    operations: Type.Record(Type.String(), OperationStatsSchema, {
      description: 'connect, register, discover, update_metadata, offer_answer, relay (same instance), relay_cross (across instances)',
    }),
    relays: Type.Object(
      {
        sent: Count('relayed messages sent (warm-up included)'),
        received: Count('unique relayed messages received'),
        lost: Count('sent and never received: sent = received + lost'),
        duplicated: Count('received more than once'),
        reordered: Count('received after a later message of the same sender'),
        cross_instance_sent: Count('sent to a peer on another instance'),
        expected_cross_share: Num('share of relays the placement meant to cross instances'),
      },
      { additionalProperties: false },
    ),
    schedule: Type.Object(
      {
        scheduled: Count('operations due in the measured window'),
        late: Count('sent later than late_after_us behind schedule'),
        late_after_us: Num(''),
        skipped_offline: Count('not sent: the peer or its target was away'),
        lag: OperationStatsSchema,
      },
      { additionalProperties: false },
    ),
    connections: Type.Object(
      {
        peers: Count('simulated peers'),
        connected: Count('peers connected during the ramp'),
        registered: Count('peers registered during the ramp'),
        attempts: Count('connection attempts (churn included)'),
        peak_open: Count(''),
        open_at_end: Count(''),
        churn: Type.Object({ left: Count(''), rejoined: Count(''), failed: Count('') }, { additionalProperties: false }),
        per_url: Type.Array(Count(''), { description: 'peers placed on each target URL' }),
      },
      { additionalProperties: false },
    ),
    presence_events: Count('presence events received'),
    errors: Type.Object(
      {
        total: Count(''),
        by_class: Type.Record(Type.String(), Count(''), {
          description: 'connect.refused, connect.reset, connect.timeout, connect.EADDRNOTAVAIL, connect.EMFILE, connect.http_NNN, close.CODE, protocol.CODE, timeout.OP, unanswered.OP',
        }),
      },
      { additionalProperties: false },
    ),
    generator: Type.Object(
      {
        valid: Type.Boolean(),
        reasons: Type.Array(Type.String(), { description: 'why the run is invalid (the generator was the bottleneck)' }),
        threads: Type.Integer({ minimum: 1 }),
        cpu: Type.Object({ avg: Num('share of one core, measured window'), max: Num('largest one-second share') }, { additionalProperties: false }),
        event_loop: Type.Object({ p50_ms: Num(''), p99_ms: Num(''), max_ms: Num('') }, { additionalProperties: false, description: 'worst thread, measured window' }),
        limits: Type.Object({ max_event_loop_p99_ms: Num(''), max_cpu: Num(''), max_late_share: Num('') }, { additionalProperties: false }),
      },
      { additionalProperties: false },
    ),
    storms: Type.Optional(Type.Array(StormReportSchema, { description: "one per fault of the scenario: the peers it displaced, how they came back, what was lost and listed meanwhile" })),
    thresholds: Type.Array(ThresholdResultSchema),
    timeline: Type.Array(TimelinePointSchema),
    verdict: Type.Object(
      {
        valid: Type.Boolean(),
        thresholds_passed: Type.Boolean(),
        exit_code: Type.Union([Type.Literal(0), Type.Literal(THRESHOLD_FAILED), Type.Literal(3)], { description: '0 passed, 99 a threshold failed, 3 the run was invalid' }),
      },
      { additionalProperties: false },
    ),
  },
  { additionalProperties: false, title: 'sleap-signal bench report', $id: REPORT_SCHEMA_ID },
);

export type BenchReport = Static<typeof ReportSchema>;
export type OperationStats = Static<typeof OperationStatsSchema>;
export type TimelinePoint = Static<typeof TimelinePointSchema>;

export function reportJsonSchema(): Record<string, unknown> {
  const { $id: _id, ...plain } = JSON.parse(JSON.stringify(ReportSchema)) as Record<string, unknown>;
  return {
    $schema: 'https://json-schema.org/draft/2020-12/schema',
    $id: 'https://sleap.ai/schemas/sleap-signal/bench-report-v1.json',
    ...plain,
  };
}

/** What a scenario file leaves out: every field filled in (the JSON report shows what a run used). */

const DEFAULT_WORKER_METADATA = {
  tags: ['sleap-rtc', 'gpu'],
  properties: { gpu_model: 'A100', gpu_memory_mb: 40960, sleap_version: '1.4.1', status: 'available' },
};
const DEFAULT_CLIENT_METADATA = { tags: ['sleap-rtc'], properties: { app: 'sleap-rtc-client' } };
const DEFAULT_DISCOVER_FILTER = { role: 'worker', tags: ['gpu'] };

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
  server: { rate_limit: '100:200', max_peers_per_room: 1000, max_connections: 50000, serve_args: [] as string[] },
  faults: [] as { at: string; action: 'kill' | 'drain'; instance: number }[],
  // The backoff of the real clients (src/client/backoff.ts, DEFAULT_BACKOFF).
  reconnect: { enabled: false, initial: '250ms', max: '15s', jitter: 0.5, abandon: 0, watch_interval: '250ms', watch_rooms: 32 },
  thresholds: [] as string[],
} as const;

import { largestRoom, smallestRoom } from '../room-sizes.js';
import { parseThreshold } from '../thresholds.js';
import type { Scenario } from './scenario.js';
import { MIX_OPS, type ScenarioFile } from './schema.js';

/** A reason a scenario cannot run, at its place in the file (a JSON pointer; empty: the whole file). */
export interface ScenarioProblem {
  readonly path: string;
  readonly message: string;
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

/** What the schema cannot see: settings that are each valid but together cannot run. */
export function scenarioProblems(s: Scenario, f: ScenarioFile): ScenarioProblem[] {
  const out: ScenarioProblem[] = [];
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
    const smallest = smallestRoom(s);
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
  out.push(...faultProblems(s));
  (f.thresholds ?? []).forEach((expr, i) => {
    try {
      parseThreshold(expr);
    } catch (err) {
      out.push({ path: `/thresholds/${i}`, message: err instanceof Error ? err.message : String(err) });
    }
  });
  return out;
}

/** Faults that cannot make a storm the report could describe. */
function faultProblems(s: Scenario): ScenarioProblem[] {
  const out: ScenarioProblem[] = [];
  const trafficMs = s.warmupMs + s.durationMs;
  const { backoff } = s.reconnect;
  if (backoff.initialDelayMs > backoff.maxDelayMs) out.push({ path: '/reconnect/initial', message: 'the first delay is longer than reconnect.max' });
  if (s.faults.length === 0) return out;
  if (s.traffic.model === 'closed') out.push({ path: '/faults', message: 'the closed model runs without faults (a relay lost with an instance would stall its slot)' });
  const seen = new Map<number, number>();
  s.faults.forEach((fault, i) => {
    if (fault.atMs >= trafficMs) out.push({ path: `/faults/${i}/at`, message: `${fault.atMs / 1000} s is not within the traffic (warm-up + duration = ${trafficMs / 1000} s)` });
    if (i > 0 && fault.atMs <= s.faults[i - 1]!.atMs) out.push({ path: `/faults/${i}/at`, message: 'faults are listed in time order, each at its own time (a storm lasts until the next fault)' });
    const earlier = seen.get(fault.instance);
    if (earlier !== undefined) out.push({ path: `/faults/${i}/instance`, message: `instance ${fault.instance} is already gone (an earlier fault at ${earlier / 1000} s)` });
    seen.set(fault.instance, fault.atMs);
  });
  return out;
}

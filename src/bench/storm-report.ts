import { Type, type Static } from '@sinclair/typebox';
import type { FaultOutcome } from './faults.js';
import { decodeHistogram, encodeHistogram } from './recorder.js';
import type { Fault } from './scenario/scenario.js';
import type { TrafficWindow } from './shard/context.js';
import { LOST_CLASSES, noLost } from './shard/lost-class.js';
import type { StormTally } from './shard/storm-ledger.js';

/**
 * The report of each storm (a fault, until the next fault or the end of the traffic): what every
 * generator thread counted, merged, with the fault's own timing.
 */

const Count = (description: string) => Type.Integer({ minimum: 0, description });
const Ms = (description: string) => Type.Number({ description: `${description}, ms` });
const Spread = (description: string) => Type.Object({ p50: Ms(''), p99: Ms(''), last: Ms('') }, { additionalProperties: false, description });
const Counts = (description: string) => Type.Record(Type.String(), Type.Integer({ minimum: 0 }), { description });

export const StormReportSchema = Type.Object(
  {
    fault: Type.Object(
      {
        action: Type.Union([Type.Literal('kill'), Type.Literal('drain')]),
        instance: Type.Integer({ minimum: 0 }),
        at_s: Type.Number({ description: 'planned time, from the start of the traffic' }),
        signal_late_ms: Type.Union([Ms('the signal went this long after the planned time'), Type.Null()], { description: 'null: never sent' }),
        exited_after_ms: Type.Union([Ms('the signal until the process exited'), Type.Null()], { description: 'null: not seen to exit' }),
      },
      { additionalProperties: false },
    ),
    window_s: Type.Number({ description: 'the storm lasts until the next fault or the end of the traffic' }),
    displaced: Count('peers on the instance whose connection the fault closed'),
    abandoned: Count('of those, the ones that stayed away on purpose (reconnect.abandon)'),
    back: Count('displaced peers registered again (by the end of the traffic)'),
    not_back: Count('displaced, not abandoned, and not registered again by the end of the traffic'),
    back_ms: Type.Union([Type.Null(), Spread('')], {
      description: 'from the fault until each displaced peer was registered again; null when none came back',
    }),
    down_ms: Type.Union([Type.Null(), Spread('')], {
      description: "from each displaced peer's own close until it was registered again (a drain spreads its closes); null when none came back",
    }),
    steps_ms: Type.Object(
      {
        connect: Type.Union([Type.Null(), Spread('TCP + upgrade')]),
        register: Type.Union([Type.Null(), Spread('register → registered')]),
      },
      { additionalProperties: false, description: 'how long the steps of the successful reconnects took (null when none came back)' },
    ),
    attempts: Count('reconnect attempts of the displaced peers'),
    failures: Type.Object(
      {
        total: Count('failed reconnect attempts'),
        peer_id_taken: Count('registers refused with PEER_ID_TAKEN (a peer re-claiming its own id)'),
        by_class: Counts('connect.CLASS (connect.refused, connect.http_503, ...), register.protocol.CODE, register.timeout, register.close.CODE (closed while registering)'),
      },
      { additionalProperties: false },
    ),
    relays: Type.Object(
      {
        sent: Count('relays sent (scheduled) during the storm'),
        received: Count('of those, received'),
        lost: Count('of those, never received (refused ones included)'),
        refused: Count('relay errors during the storm: PEER_NOT_FOUND, PEER_NOT_IN_ROOM, SERVICE_UNAVAILABLE'),
        refused_by_class: Counts('protocol.CODE'),
        lost_by_cause: Type.Optional(
          Type.Object(
            {
              refused: Count('an error came back (PEER_NOT_FOUND, ...)'),
              sender_closed: Count("a fault closed the sender's connection after the send, before an answer reached it (nobody left to tell)"),
              target_faulted: Count("the target's connection was on an instance a fault closed after the send (in flight when it died)"),
              unexplained: Count('none of these: lost silently'),
            },
            { additionalProperties: false, description: 'the lost relays by why (they add up to lost); absent in reports of older versions' },
          ),
        ),
      },
      { additionalProperties: false },
    ),
    listed_twice: Count("peer ids listed twice in one list (a reconnect's peer_list, a watcher's discover), or a peer's own id in its peer_list"),
    discovery: Type.Object(
      {
        rooms_watched: Count('rooms with a watcher discovering during the storm'),
        lists: Count("watchers' discover replies"),
        abandoned_watched: Count('abandoned peers in watched rooms'),
        gone_ms: Type.Union([Type.Null(), Type.Object({ p50: Ms(''), max: Ms('') }, { additionalProperties: false })], {
          description: 'from the fault until discovery no longer listed an abandoned peer; null when none was seen to go',
        }),
        still_listed: Count('abandoned peers the last list of the storm still held'),
      },
      { additionalProperties: false },
    ),
  },
  { additionalProperties: false },
);

export type StormReport = Static<typeof StormReportSchema>;

const round = (n: number) => Math.round(n * 10) / 10;

function addCounts(into: Record<string, number>, from: Record<string, number>): void {
  for (const [k, n] of Object.entries(from)) into[k] = (into[k] ?? 0) + n;
}

/** The threads' tallies of each storm added up (`perShard[thread][storm]`). */
export function mergeStormTallies(perShard: readonly (readonly StormTally[])[]): StormTally[] {
  const storms = perShard[0]?.length ?? 0;
  return Array.from({ length: storms }, (_, k) => {
    const parts = perShard.map((s) => s[k]!);
    const back = decodeHistogram('');
    const down = decodeHistogram('');
    const connect = decodeHistogram('');
    const register = decodeHistogram('');
    const gone = decodeHistogram('');
    const failures: Record<string, number> = {};
    const refused: Record<string, number> = {};
    const lostBy = noLost();
    for (const p of parts) {
      for (const c of LOST_CLASSES) lostBy[c] += p.lostBy[c];
      back.add(decodeHistogram(p.backUs));
      down.add(decodeHistogram(p.downUs));
      connect.add(decodeHistogram(p.connectUs));
      register.add(decodeHistogram(p.registerUs));
      gone.add(decodeHistogram(p.goneUs));
      addCounts(failures, p.failures);
      addCounts(refused, p.refused);
    }
    const sum = (f: (t: StormTally) => number) => parts.reduce((a, p) => a + f(p), 0);
    return {
      displaced: sum((t) => t.displaced),
      abandoned: sum((t) => t.abandoned),
      back: sum((t) => t.back),
      backUs: back.totalCount > 0 ? encodeHistogram(back) : '',
      downUs: down.totalCount > 0 ? encodeHistogram(down) : '',
      connectUs: connect.totalCount > 0 ? encodeHistogram(connect) : '',
      registerUs: register.totalCount > 0 ? encodeHistogram(register) : '',
      attempts: sum((t) => t.attempts),
      failures,
      relaysSent: sum((t) => t.relaysSent),
      relaysReceived: sum((t) => t.relaysReceived),
      refused,
      lostBy,
      listedTwice: sum((t) => t.listedTwice),
      roomsWatched: sum((t) => t.roomsWatched),
      lists: sum((t) => t.lists),
      abandonedWatched: sum((t) => t.abandonedWatched),
      goneUs: gone.totalCount > 0 ? encodeHistogram(gone) : '',
      stillListed: sum((t) => t.stillListed),
    };
  });
}

/** The report of each storm from its merged tally, the fault's outcome and the traffic window. */
export function stormReports(tallies: readonly StormTally[], faults: readonly Fault[], outcomes: readonly FaultOutcome[] | null, window: TrafficWindow): StormReport[] {
  return tallies.map((t, k) => {
    const fault = faults[k]!;
    const outcome = outcomes?.[k] ?? null;
    const plannedUs = window.startUs + fault.atMs * 1000;
    const endUs = k + 1 < faults.length ? window.startUs + faults[k + 1]!.atMs * 1000 : window.endUs;
    const ms = (us: number) => round(us / 1000);
    const spread = (text: string) => {
      const h = decodeHistogram(text);
      return h.totalCount > 0 ? { p50: ms(h.getValueAtPercentile(50)), p99: ms(h.getValueAtPercentile(99)), last: ms(h.maxValue) } : null;
    };
    const gone = decodeHistogram(t.goneUs);
    const refused = Object.values(t.refused).reduce((a, b) => a + b, 0);
    return {
      fault: {
        action: fault.action,
        instance: fault.instance,
        at_s: fault.atMs / 1000,
        signal_late_ms: outcome?.signalledUs != null ? ms(outcome.signalledUs - plannedUs) : null,
        exited_after_ms: outcome?.signalledUs != null && outcome.exitedUs != null ? ms(outcome.exitedUs - outcome.signalledUs) : null,
      },
      window_s: round((endUs - plannedUs) / 1e6),
      displaced: t.displaced,
      abandoned: t.abandoned,
      back: t.back,
      not_back: Math.max(0, t.displaced - t.abandoned - t.back),
      back_ms: spread(t.backUs),
      down_ms: spread(t.downUs),
      steps_ms: { connect: spread(t.connectUs), register: spread(t.registerUs) },
      attempts: t.attempts,
      failures: {
        total: Object.values(t.failures).reduce((a, b) => a + b, 0),
        peer_id_taken: t.failures['register.protocol.PEER_ID_TAKEN'] ?? 0,
        by_class: Object.fromEntries(Object.entries(t.failures).sort((a, b) => b[1] - a[1])),
      },
      relays: {
        sent: t.relaysSent,
        received: t.relaysReceived,
        lost: Math.max(0, t.relaysSent - t.relaysReceived),
        refused,
        refused_by_class: t.refused,
        lost_by_cause: { ...t.lostBy },
      },
      listed_twice: t.listedTwice,
      discovery: {
        rooms_watched: t.roomsWatched,
        lists: t.lists,
        abandoned_watched: t.abandonedWatched,
        gone_ms: gone.totalCount > 0 ? { p50: ms(gone.getValueAtPercentile(50)), max: ms(gone.maxValue) } : null,
        still_listed: t.stillListed,
      },
    };
  });
}

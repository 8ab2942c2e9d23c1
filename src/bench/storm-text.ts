import type { StormReport } from './storm-report.js';

/** Each storm in a few labelled lines, for the terminal table and the HTML page. */

const count = (n: number) => n.toLocaleString('en-US');
const seconds = (ms: number) => `${(ms / 1000).toFixed(2)} s`;

function classes(byClass: Readonly<Record<string, number>>): string {
  return Object.entries(byClass)
    .map(([c, n]) => `${c} ${count(n)}`)
    .join(', ');
}

/** Why the lost relays were lost (a report of an older version has no such row). */
function lostRow(s: StormReport): [string, string, boolean][] {
  const by = s.relays.lost_by_cause;
  if (by === undefined || s.relays.lost === 0) return [];
  const text =
    `${count(by.refused)} refused, ${count(by.sender_closed)} sender's connection closed by the fault, ` +
    `${count(by.target_faulted)} to a peer on the faulted instance, ${count(by.unexplained)} unexplained`;
  return [['  lost', text, by.unexplained > 0]];
}

/** `[label, text, bad]` rows of one storm (`bad`: worth a red mark). */
export function stormRows(s: StormReport, k: number): [string, string, boolean][] {
  const f = s.fault;
  const d = s.discovery;
  const spread = (x: { p50: number; p99: number; last: number }) => `p50 ${seconds(x.p50)} / p99 ${seconds(x.p99)} / last ${seconds(x.last)}`;
  return [
    [`storm ${k + 1}`, `${f.action} of instance ${f.instance} at ${f.at_s} s` + (f.exited_after_ms !== null ? `, exited ${seconds(f.exited_after_ms)} after the signal` : ''), false],
    ['  displaced', `${count(s.displaced)} (${count(s.abandoned)} stay away on purpose): ${count(s.back)} back, ${count(s.not_back)} not back`, s.not_back > 0],
    ['  back after', s.back_ms !== null ? `${spread(s.back_ms)} from the fault${s.down_ms !== null ? `; away ${spread(s.down_ms)}` : ''}` : 'none came back', s.back_ms === null],
    [
      '  reconnects',
      (s.steps_ms.connect !== null && s.steps_ms.register !== null ? `connect ${spread(s.steps_ms.connect)}, register ${spread(s.steps_ms.register)}; ` : '') +
        `${count(s.attempts)} attempts, ${count(s.failures.total)} failed${s.failures.total > 0 ? ` (${classes(s.failures.by_class)})` : ''}; PEER_ID_TAKEN ${count(s.failures.peer_id_taken)}`,
      s.failures.total > 0,
    ],
    [
      '  relays',
      `${count(s.relays.sent)} sent in the storm, ${count(s.relays.lost)} lost, ${count(s.relays.refused)} refused${s.relays.refused > 0 ? ` (${classes(s.relays.refused_by_class)})` : ''}`,
      s.relays.lost > 0,
    ],
    ...lostRow(s),
    ['  discovery', `listed twice ${count(s.listed_twice)}; ${count(d.rooms_watched)} room(s) watched, ${count(d.lists)} lists`, s.listed_twice > 0],
    [
      '  abandoned',
      (d.gone_ms !== null ? `no longer listed after p50 ${seconds(d.gone_ms.p50)} / max ${seconds(d.gone_ms.max)}` : 'none seen to go') +
        `; ${count(d.still_listed)} of ${count(d.abandoned_watched)} watched still listed at the end`,
      d.still_listed > 0,
    ],
  ];
}

import Table from 'cli-table3';
import { clean, cleanJson, layoutColumns, type Align } from './columns.js';
import type { ClusterStats, PeerDetail, PeerView, RoomDetail, RoomListing, ServerView } from '../admin/views.js';
import {
  formatAgo,
  formatCount,
  formatDuration,
  formatProperties,
  formatRate,
  formatRoles,
  formatTags,
  isoTime,
  statusText,
  type Styles,
} from './format.js';
import type { RoomFilter } from '../admin/json-output.js';
import type { KickResult, RoomDeleteResult } from '../admin/peer-removal.js';

/** Column layout without borders (grep-friendly), two spaces between columns. */
const NO_BORDERS = {
  top: '',
  'top-mid': '',
  'top-left': '',
  'top-right': '',
  bottom: '',
  'bottom-mid': '',
  'bottom-left': '',
  'bottom-right': '',
  left: '',
  'left-mid': '',
  mid: '',
  'mid-mid': '',
  right: '',
  'right-mid': '',
  middle: '  ',
};

/** Lists longer than this are laid out by columns.ts: cli-table3's layout is quadratic in rows. */
export const CLI_TABLE_MAX_ROWS = 200;

/** A list with a header row, in columns; `engine` is for tests (the default picks by size). */
export function grid(
  head: readonly string[],
  rows: readonly string[][],
  st: Styles,
  aligns: readonly Align[] = [],
  engine: 'auto' | 'cli-table3' | 'columns' = 'auto',
): string {
  const colAligns = head.map((_, i) => aligns[i] ?? 'left');
  if (engine === 'columns' || (engine === 'auto' && rows.length > CLI_TABLE_MAX_ROWS)) {
    return layoutColumns([head.map((h) => st.head(h)), ...rows], colAligns);
  }
  const table = new Table({
    head: head.map((h) => st.head(h)),
    chars: NO_BORDERS,
    // cli-table3 colours nothing itself: colour comes from chalk, and only on a terminal.
    style: { 'padding-left': 0, 'padding-right': 0, head: [], border: [], compact: true },
    colAligns,
  });
  table.push(...rows);
  return trimLines(table.toString());
}

function keyValues(rows: readonly [string, string][], st: Styles): string {
  const table = new Table({
    chars: NO_BORDERS,
    style: { 'padding-left': 0, 'padding-right': 1, head: [], border: [], compact: true },
  });
  table.push(...rows.map(([k, v]) => [st.head(k), v]));
  return trimLines(table.toString());
}

function trimLines(text: string): string {
  return text
    .split('\n')
    .map((l) => l.trimEnd())
    .join('\n');
}

const plural = (n: number, one: string, many = `${one}s`) => `${formatCount(n)} ${n === 1 ? one : many}`;

/** `emptyPrefix`: the prefix read, when neither a room nor a live instance was found under it. */
export function roomsTable(listing: RoomListing, now: number, st: Styles, emptyPrefix: string | null = null): string {
  if (listing.rooms.length === 0) {
    const hint = emptyPrefix === null ? '' : ` (and no live instance under the prefix "${clean(emptyPrefix)}": is it the --prefix that serve uses?)`;
    return `${st.dim(`no active rooms${hint}`)}\n`;
  }
  const rows = listing.rooms.map((r) => [
    st.id(clean(r.roomId)),
    formatCount(r.peers),
    formatRoles(r.roles),
    r.createdAt === null ? '-' : formatDuration(now - r.createdAt),
    formatAgo(r.lastUsed, now),
    r.expiresInMs === null ? 'never' : formatDuration(r.expiresInMs),
  ]);
  const peers = listing.rooms.reduce((n, r) => n + r.peers, 0);
  const more = listing.truncated ? st.dim(` (the ${formatCount(listing.rooms.length)} most recently used; --limit)`) : '';
  return `${grid(['ROOM', 'PEERS', 'ROLES', 'AGE', 'LAST USED', 'EXPIRES IN'], rows, st, ['left', 'right'])}\n${plural(listing.rooms.length, 'room')}, ${plural(peers, 'peer')}${more}\n`;
}

function instanceCell(p: PeerView, st: Styles): string {
  const id = clean(p.serverId);
  return p.instanceStatus === 'live' ? id : `${id} (${statusText(p.instanceStatus, st)})`;
}

function expiresIn(room: RoomDetail, now: number): string {
  if (room.expiresInMs !== null) return formatDuration(room.expiresInMs);
  const end = room.createdRoom?.expiresAt ?? null;
  return end === null ? 'never' : formatDuration(Math.max(0, end - now));
}

export function roomTable(room: RoomDetail, peers: readonly PeerView[], filter: RoomFilter, now: number, st: Styles): string {
  const facts = [
    `${st.head('room')} ${st.id(clean(room.roomId))}`,
    `${plural(room.peers, 'peer')}${room.peers > 0 ? ` (${formatRoles(room.roles)})` : ''}`,
    `admin ${room.admin === null ? '-' : clean(room.admin)}`,
    // A created room nobody has joined yet has no room keys: its record says when it began and ends.
    `created ${formatAgo(room.createdAt ?? room.createdRoom?.createdAt ?? null, now)}`,
    `expires in ${expiresIn(room, now)}`,
    ...(room.createdRoom === null
      ? []
      : [`created room, token expires ${room.createdRoom.expiresAt === null ? 'never' : `in ${formatDuration(room.createdRoom.expiresAt - now)}`}`]),
  ];
  let out = `${facts.join(' · ')}\n`;
  const filters = [...(filter.role !== null ? [`role=${clean(filter.role)}`] : []), ...filter.tags.map((t) => `tag=${clean(t)}`)];
  if (peers.length === 0) {
    out += `${st.dim(filters.length > 0 ? `no peer matches ${filters.join(', ')}` : 'no peers')}\n`;
    return out;
  }
  const rows = peers.map((p) => [
    st.id(clean(p.peerId)) + (p.admin ? st.dim(' (admin)') : ''),
    clean(p.role) || '-',
    formatTags(p.tags),
    formatProperties(p.properties),
    instanceCell(p, st),
    formatDuration(now - p.connectedAt * 1000),
  ]);
  out += `\n${grid(['PEER', 'ROLE', 'TAGS', 'PROPERTIES', 'INSTANCE', 'CONNECTED FOR'], rows, st)}\n`;
  if (filters.length > 0) out += `${st.dim(`${formatCount(peers.length)} of ${plural(room.peers, 'peer')} match ${filters.join(', ')}`)}\n`;
  return out;
}

export function peerTable(p: PeerDetail, now: number, st: Styles): string {
  const s = p.instance;
  const address = s.host !== null && s.port !== null ? ` at ${clean(s.host)}:${s.port}` : '';
  const metadata = JSON.stringify(p.metadata);
  return `${keyValues(
    [
      ['peer', st.id(clean(p.peerId))],
      ['room', clean(p.roomId)],
      ['role', clean(p.role) || '-'],
      ['tags', formatTags(p.tags, 200)],
      ['properties', formatProperties(p.properties, 200)],
      ['metadata', cleanJson(metadata.length <= 72 ? metadata : JSON.stringify(p.metadata, null, 2))],
      ['instance', `${clean(p.serverId)} (${statusText(p.instanceStatus, st)})${address}`],
      ['connection', clean(p.connectionId)],
      ['connected', `${isoTime(p.connectedAt * 1000)} (${formatDuration(now - p.connectedAt * 1000)} ago)`],
      ['presence', p.presence ? 'subscribed' : 'no'],
      ['admin', p.admin ? 'yes' : 'no'],
      ['subject', p.subject === null ? '-' : clean(p.subject)],
    ],
    st,
  )}\n`;
}

export function serversTable(servers: readonly ServerView[], now: number, st: Styles): string {
  if (servers.length === 0) return `${st.dim('no instances registered')}\n`;
  const rows = servers.map((s) => [
    st.id(clean(s.serverId)),
    statusText(s.status, st),
    s.host !== null && s.port !== null ? `${clean(s.host)}:${s.port}` : '-',
    formatCount(s.connections),
    formatCount(s.status === 'dead' ? s.heldPeers : s.peers),
    s.version === null ? '-' : clean(s.version),
    s.startedAt === null || s.status === 'dead' ? '-' : formatDuration(now - s.startedAt),
    formatAgo(s.heartbeatAt, now),
    formatRate(s.relayRate),
  ]);
  const count = (status: ServerView['status']) => servers.filter((s) => s.status === status).length;
  const summary = `${plural(servers.length, 'instance')}: ${count('live')} live, ${count('late')} late, ${count('dead')} dead`;
  const note = count('dead') > 0 ? st.dim(' (dead instances stay listed, with the peers they held, until a live one reaps them)') : '';
  return `${grid(['INSTANCE', 'STATUS', 'ADDRESS', 'CONNECTIONS', 'PEERS', 'VERSION', 'UPTIME', 'LAST HEARTBEAT', 'RELAYED'], rows, st, [
    'left',
    'left',
    'left',
    'right',
    'right',
    'left',
    'left',
    'left',
    'right',
  ])}\n${summary}${note}\n`;
}

export function statsTable(stats: ClusterStats, st: Styles): string {
  const { live, late, dead } = stats.instances;
  const instances = [`${formatCount(live)} live`, late > 0 ? st.warn(`${late} late`) : `${late} late`, dead > 0 ? st.bad(`${dead} dead`) : `${dead} dead`];
  return `${keyValues(
    [
      ['instances', instances.join(', ')],
      ['connections', formatCount(stats.connections)],
      ['rooms', formatCount(stats.rooms)],
      ['peers', formatCount(stats.peers)],
      ['largest room', stats.largestRoom === null ? '-' : `${clean(stats.largestRoom.roomId)} (${plural(stats.largestRoom.peers, 'peer')})`],
      ['messages relayed', `${formatRate(stats.relayRate)} (${formatCount(stats.relayedTotal)} since the instances started)`],
    ],
    st,
  )}\n`;
}

function notified(k: KickResult, st: Styles): string {
  return k.instanceNotified
    ? `instance ${clean(k.serverId)} closes its connection`
    : st.warn(`instance ${clean(k.serverId)} did not answer (gone?); its records were removed anyway`);
}

export function kickText(k: KickResult, st: Styles): string {
  return `kicked ${st.id(clean(k.peerId))} from room ${clean(k.roomId)}: ${notified(k, st)}\n`;
}

export function roomDeleteText(r: RoomDeleteResult, st: Styles): string {
  let out = `deleted room ${st.id(clean(r.roomId))}: ${plural(r.peers.length, 'peer')} removed${r.peers.length > 0 ? ` (${r.peers.map((p) => clean(p.peerId)).join(', ')})` : ''}\n`;
  for (const k of r.peers) if (!k.instanceNotified) out += `  ${clean(k.peerId)}: ${notified(k, st)}\n`;
  if (!r.roomRemoved) out += st.warn('a peer joined while the room was being deleted: the room is still there\n');
  return out;
}

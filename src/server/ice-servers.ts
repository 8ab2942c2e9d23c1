import { mintTurnCredential, type TurnConfig } from './turn-credentials.js';

/** One entry of RTCConfiguration.iceServers, as browsers and aiortc take it. */
export interface IceServer {
  readonly urls: string | readonly string[];
  readonly username?: string;
  readonly credential?: string;
}

export type IceConfigError = { readonly ok: false; readonly code: 'INVALID_ICE_SERVERS' | 'INVALID_TURN_URLS'; readonly message: string };
export type Parsed<T> = { readonly ok: true; readonly value: T } | IceConfigError;

const ICE_URL = /^(stun|stuns|turn|turns):[^\s]+$/;
const TURN_URL = /^(turn|turns):[^\s]+$/;
const FIELDS = new Set(['urls', 'username', 'credential']);

/**
 * `--ice-servers`: a JSON list of RTCIceServer objects. Messages never quote a value: an entry may
 * hold a long-lived TURN password, and the message ends up in a terminal or a log.
 */
export function parseIceServers(text: string): Parsed<IceServer[]> {
  const fail = (message: string): IceConfigError => ({ ok: false, code: 'INVALID_ICE_SERVERS', message });
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return fail('expected a JSON list of {"urls": ..., "username"?: ..., "credential"?: ...} objects; this is not JSON');
  }
  if (!Array.isArray(value)) return fail('expected a JSON list of RTCIceServer objects');
  const servers: IceServer[] = [];
  for (const [i, entry] of value.entries()) {
    const where = `entry ${i}`;
    if (typeof entry !== 'object' || entry === null || Array.isArray(entry)) return fail(`${where}: expected an object`);
    const unknown = Object.keys(entry).filter((k) => !FIELDS.has(k));
    if (unknown.length > 0) return fail(`${where}: unknown field ${JSON.stringify(unknown[0])} (fields: urls, username, credential)`);
    const { urls, username, credential } = entry as Record<string, unknown>;
    const list = typeof urls === 'string' ? [urls] : urls;
    if (!Array.isArray(list) || list.length === 0) return fail(`${where}: urls must be a URL or a non-empty list of URLs`);
    for (const url of list) {
      if (typeof url !== 'string' || !ICE_URL.test(url)) return fail(`${where}: every url must start with stun:, stuns:, turn: or turns:`);
    }
    if (username !== undefined && typeof username !== 'string') return fail(`${where}: username must be a string`);
    if (credential !== undefined && typeof credential !== 'string') return fail(`${where}: credential must be a string`);
    servers.push({ urls: urls as string | string[], ...(username !== undefined && { username }), ...(credential !== undefined && { credential }) });
  }
  return { ok: true, value: servers };
}

/** `--turn-urls`: comma-separated turn: / turns: URLs. */
export function parseTurnUrls(text: string): Parsed<string[]> {
  const urls = text
    .split(',')
    .map((u) => u.trim())
    .filter(Boolean);
  if (urls.length === 0) return { ok: false, code: 'INVALID_TURN_URLS', message: 'expected one or more comma-separated turn: or turns: URLs' };
  const bad = urls.find((u) => !TURN_URL.test(u));
  if (bad !== undefined) return { ok: false, code: 'INVALID_TURN_URLS', message: `expected turn: or turns: URLs, got "${bad}"` };
  return { ok: true, value: urls };
}

/**
 * What a registration is told in `ice_servers` and `mesh_ice_servers`: the configured servers, then
 * (with a TURN secret) the TURN URLs with a credential minted for this peer.
 */
export function iceServersFor(
  options: { readonly iceServers: readonly unknown[]; readonly turn: TurnConfig | null },
  peerId: string,
  nowMs: number,
): readonly unknown[] {
  const { turn } = options;
  if (turn === null) return options.iceServers;
  const { username, credential } = mintTurnCredential(turn.secret, peerId, turn.ttlSeconds, nowMs);
  const minted: IceServer = { urls: turn.urls, username, credential };
  return [...options.iceServers, minted];
}

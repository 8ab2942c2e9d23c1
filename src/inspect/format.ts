import { Chalk, type ChalkInstance } from 'chalk';
import type { JsonObject, JsonValue } from '../protocol/json-value.js';
import type { InstanceStatus } from '../admin/views.js';
import { clean } from './columns.js';

/** Where output goes, as far as colour and redrawing care. */
export interface OutputStream {
  readonly isTTY?: boolean;
  write(chunk: string): boolean;
}

/** The few styles the tables use; plain text when colour is off. */
export interface Styles {
  readonly head: (s: string) => string;
  readonly dim: (s: string) => string;
  readonly id: (s: string) => string;
  readonly good: (s: string) => string;
  readonly warn: (s: string) => string;
  readonly bad: (s: string) => string;
}

export function styles(level: 0 | 1 | 2 | 3): Styles {
  const c: ChalkInstance = new Chalk({ level });
  return {
    head: (s) => c.bold(s),
    dim: (s) => c.dim(s),
    id: (s) => c.cyan(s),
    good: (s) => c.green(s),
    warn: (s) => c.yellow(s),
    bad: (s) => c.red(s),
  };
}

export const PLAIN: Styles = styles(0);

export function statusText(status: InstanceStatus, st: Styles): string {
  return status === 'live' ? st.good(status) : status === 'late' ? st.warn(status) : st.bad(status);
}

/** 42s, 5m 03s, 2h 05m, 3d 4h. */
export function formatDuration(ms: number | null): string {
  if (ms === null || !Number.isFinite(ms)) return '-';
  const s = Math.max(0, Math.floor(ms / 1000));
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m ${String(s % 60).padStart(2, '0')}s`;
  const h = Math.floor(m / 60);
  if (h < 24) return `${h}h ${String(m % 60).padStart(2, '0')}m`;
  return `${Math.floor(h / 24)}d ${h % 24}h`;
}

/** "5m 03s ago" for a Unix ms time. */
export function formatAgo(at: number | null, now: number): string {
  return at === null ? '-' : `${formatDuration(now - at)} ago`;
}

/** "worker 2, client 1". */
export function formatRoles(roles: Readonly<Record<string, number>>): string {
  const parts = Object.entries(roles).map(([role, n]) => `${clean(role) || '(none)'} ${n}`);
  return parts.length > 0 ? parts.join(', ') : '-';
}

/** "gpu=a100, vram=24", cut at `max` characters. */
export function formatProperties(properties: Readonly<JsonObject>, max = 48): string {
  const parts = Object.entries(properties).map(([k, v]) => `${clean(k)}=${clean(scalar(v))}`);
  return parts.length > 0 ? truncate(parts.join(', '), max) : '-';
}

export function formatTags(tags: readonly string[], max = 32): string {
  return tags.length > 0 ? truncate(clean(tags.join(', ')), max) : '-';
}

/** 1,234,567 */
export function formatCount(n: number | null): string {
  return n === null ? '-' : n.toLocaleString('en-US');
}

export function formatRate(n: number | null): string {
  return n === null ? '-' : `${n.toLocaleString('en-US', { maximumFractionDigits: 1 })}/s`;
}

export { isoTime } from '../admin/times.js';

export function truncate(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, Math.max(1, max - 1))}…`;
}

function scalar(v: JsonValue): string {
  return typeof v === 'string' ? v : JSON.stringify(v);
}

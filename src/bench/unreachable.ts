import type { BenchReport } from './report-schema.js';

/** What a connect error class says in words, for the one line a run that reached nothing prints. */
const REASONS: Record<string, string> = {
  'connect.refused': 'ECONNREFUSED',
  'connect.reset': 'connection reset',
  'connect.timeout': 'timed out',
  'connect.dns': 'host not found',
};

/**
 * When no peer connected at all, nothing was measured: the one line to print instead of a report
 * (`cannot reach ws://...: ECONNREFUSED`); null when some peer connected.
 */
export function unreachableLine(report: BenchReport): string | null {
  if (report.connections.connected > 0 || report.connections.attempts === 0) return null;
  const classes = Object.entries(report.errors.by_class).filter(([cls]) => cls.startsWith('connect.'));
  classes.sort((a, b) => b[1] - a[1]);
  const cls = classes[0]?.[0];
  const reason = cls === undefined ? 'no peer connected' : (REASONS[cls] ?? httpReason(cls) ?? cls.slice('connect.'.length));
  return `cannot reach ${report.run.targets.join(', ')}: ${reason}`;
}

function httpReason(cls: string): string | null {
  const m = /^connect\.http_(\d{3})$/.exec(cls);
  return m ? `HTTP ${m[1]} on the upgrade` : null;
}

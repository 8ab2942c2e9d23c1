/** A network address as `host:port` (an IPv6 host in brackets, or bare before the last colon). */
export interface HostPort {
  readonly host: string;
  readonly port: number;
}

/** Parses `host:port` (`[::1]:7000` too); null when it is not one. */
export function parseHostPort(text: string): HostPort | null {
  const m = /^\[?([\w.:-]+?)\]?:(\d{1,5})$/.exec(text.trim());
  if (m === null) return null;
  const port = Number(m[2]);
  return port > 0 && port <= 65535 ? { host: m[1]!, port } : null;
}

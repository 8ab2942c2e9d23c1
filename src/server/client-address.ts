import type { IncomingMessage } from 'node:http';

/** The client's address; behind a trusted proxy, the one the proxy saw (last X-Forwarded-For hop). */
export function clientAddress(req: IncomingMessage, trustProxy: boolean): string {
  const direct = req.socket.remoteAddress ?? 'unknown';
  if (!trustProxy) return direct;
  const forwarded = req.headers['x-forwarded-for'];
  const list = (Array.isArray(forwarded) ? forwarded.join(',') : (forwarded ?? '')).split(',').map((a) => a.trim()).filter(Boolean);
  return list.at(-1) ?? direct;
}

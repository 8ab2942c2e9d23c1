import type { IncomingMessage, ServerResponse } from 'node:http';

/** What the HTTP endpoints need from the server. */
export interface HttpBackend {
  health(): { ok: boolean; body: Record<string, unknown> };
  metricsText(): Promise<{ contentType: string; body: string }>;
  operatorAllowed(req: IncomingMessage): boolean;
  deletePeer(peerId: string): Promise<{ found: boolean; body: Record<string, unknown> }>;
  deleteRoom(selector: { roomId?: string; peerId?: string }): Promise<{ found: boolean; body: Record<string, unknown> }>;
}

const MAX_BODY_BYTES = 64 * 1024;

/** GET /health, GET /metrics, and the operator endpoints of the deployed server. */
export async function handleHttp(backend: HttpBackend, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const path = (req.url ?? '/').split('?')[0];
  try {
    if (req.method === 'GET' && path === '/health') {
      const { ok, body } = backend.health();
      return json(res, ok ? 200 : 503, body);
    }
    if (req.method === 'GET' && path === '/metrics') {
      const { contentType, body } = await backend.metricsText();
      res.writeHead(200, { 'content-type': contentType });
      res.end(body);
      return;
    }
    if (path === '/delete-peer' || path === '/delete-peers-and-room') {
      if (req.method !== 'POST') return json(res, 405, { error: 'use POST' });
      if (!backend.operatorAllowed(req)) return json(res, 401, { error: 'operator token required' });
      const body = await readJson(req);
      if (body === undefined) return json(res, 400, { error: 'body must be a JSON object' });
      const peerId = typeof body.peer_id === 'string' ? body.peer_id : undefined;
      const roomId = typeof body.room_id === 'string' ? body.room_id : undefined;
      if (path === '/delete-peer') {
        if (peerId === undefined) return json(res, 400, { error: 'peer_id is required' });
        const result = await backend.deletePeer(peerId);
        return json(res, result.found ? 200 : 404, result.body);
      }
      if (peerId === undefined && roomId === undefined) return json(res, 400, { error: 'room_id or peer_id is required' });
      const result = await backend.deleteRoom(roomId !== undefined ? { roomId } : { peerId: peerId! });
      return json(res, result.found ? 200 : 404, result.body);
    }
    json(res, 404, { error: 'not found' });
  } catch (err) {
    json(res, 503, { error: 'service unavailable', reason: err instanceof Error ? err.message : String(err) });
  }
}

function json(res: ServerResponse, status: number, body: Record<string, unknown>): void {
  if (res.headersSent) return;
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify(body));
}

async function readJson(req: IncomingMessage): Promise<Record<string, unknown> | undefined> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY_BYTES) return undefined;
    chunks.push(chunk as Buffer);
  }
  try {
    const value: unknown = JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}');
    return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

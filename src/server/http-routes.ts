import type { IncomingMessage, ServerResponse } from 'node:http';

export type HttpReply = { status: number; body: Record<string, unknown> };

/** What the HTTP endpoints need from the server. */
export interface HttpBackend {
  health(): { ok: boolean; body: Record<string, unknown> };
  metricsText(): Promise<{ contentType: string; body: string }>;
  /** The operator token, or (where `credentials` is true and authentication is on) a valid credential. */
  allowed(req: IncomingMessage, credentials: boolean): Promise<boolean>;
  metricsAllowed(req: IncomingMessage): boolean;
  createRoom(body: Record<string, unknown>): Promise<HttpReply>;
  deletePeer(peerId: string): Promise<HttpReply>;
  deleteRoom(selector: { roomId?: string; peerId?: string }): Promise<HttpReply>;
  createApiKey(body: Record<string, unknown>): Promise<HttpReply>;
  listApiKeys(): Promise<HttpReply>;
  revokeApiKey(id: string): Promise<HttpReply>;
}

/** Which endpoints a listener serves: the main port has all of them unless an admin port takes the operator ones. */
export interface RouteSet {
  readonly operator: boolean;
  readonly public: boolean;
}

const MAX_BODY_BYTES = 64 * 1024;

/** GET /health, GET /metrics, POST /create-room, the operator endpoints of the deployed server, and /admin/keys. */
export async function handleHttp(backend: HttpBackend, routes: RouteSet, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const path = (req.url ?? '/').split('?')[0];
  try {
    if (req.method === 'GET' && path === '/health') {
      const { ok, body } = backend.health();
      return json(res, ok ? 200 : 503, body);
    }
    if (routes.operator && req.method === 'GET' && path === '/metrics') {
      if (!backend.metricsAllowed(req)) return json(res, 401, { error: 'metrics token required' });
      const { contentType, body } = await backend.metricsText();
      res.writeHead(200, { 'content-type': contentType });
      res.end(body);
      return;
    }
    if (routes.public && path === '/create-room') {
      if (req.method !== 'POST') return json(res, 405, { error: 'use POST' });
      if (!(await backend.allowed(req, true))) return json(res, 401, { error: 'authentication required' });
      const body = await readJson(req);
      if (body === undefined) return json(res, 400, { error: 'body must be a JSON object' });
      const reply = await backend.createRoom(body);
      return json(res, reply.status, reply.body);
    }
    if (routes.operator && isOperatorPath(path)) {
      if (req.method !== 'POST' && !(req.method === 'GET' && path === '/admin/keys')) return json(res, 405, { error: 'use POST' });
      if (!(await backend.allowed(req, !path!.startsWith('/admin/')))) return json(res, 401, { error: 'operator token required' });
      const body = req.method === 'POST' ? await readJson(req) : {};
      if (body === undefined) return json(res, 400, { error: 'body must be a JSON object' });
      const reply = await operatorRoute(backend, req.method!, path!, body);
      return json(res, reply.status, reply.body);
    }
    json(res, 404, { error: 'not found' });
  } catch (err) {
    json(res, 503, { error: 'service unavailable', reason: err instanceof Error ? err.message : String(err) });
  }
}

function isOperatorPath(path: string | undefined): boolean {
  return path === '/delete-peer' || path === '/delete-peers-and-room' || path === '/admin/keys' || path === '/admin/keys/revoke';
}

async function operatorRoute(backend: HttpBackend, method: string, path: string, body: Record<string, unknown>): Promise<HttpReply> {
  const str = (key: string) => (typeof body[key] === 'string' ? (body[key] as string) : undefined);
  switch (path) {
    case '/delete-peer': {
      const peerId = str('peer_id');
      return peerId === undefined ? bad('peer_id is required') : backend.deletePeer(peerId);
    }
    case '/delete-peers-and-room': {
      const roomId = str('room_id');
      const peerId = str('peer_id');
      if (roomId !== undefined) return backend.deleteRoom({ roomId });
      return peerId === undefined ? bad('room_id or peer_id is required') : backend.deleteRoom({ peerId });
    }
    case '/admin/keys':
      return method === 'GET' ? backend.listApiKeys() : backend.createApiKey(body);
    default: {
      const id = str('id');
      return id === undefined ? bad('id is required') : backend.revokeApiKey(id);
    }
  }
}

function bad(error: string): HttpReply {
  return { status: 400, body: { error } };
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

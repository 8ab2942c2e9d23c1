import type { IncomingMessage, ServerResponse } from 'node:http';
import type { ClusterView } from '../admin/views.js';
import type { Caller } from './caller.js';
import { inspectRoute, isInspectPath } from './inspect-routes.js';
import { checkCloseReason } from '../admin/close-reason.js';
import type { CreateRoomRequest, DeletePeerRequest, DeleteRoomRequest, HttpReply } from './http-types.js';

/** What the HTTP endpoints need from the server. */
export interface HttpBackend {
  health(): { ok: boolean; body: Record<string, unknown> };
  metricsText(): Promise<{ contentType: string; body: string }>;
  /**
   * Who the request comes from, or null when it may not call the endpoint (401): the operator
   * token, or (where `credentials` is true and authentication is on) a valid credential.
   */
  allowed(req: IncomingMessage, credentials: boolean): Promise<Caller | null>;
  metricsAllowed(req: IncomingMessage): boolean;
  createRoom(request: CreateRoomRequest): Promise<HttpReply>;
  deletePeer(request: DeletePeerRequest): Promise<HttpReply>;
  deleteRoom(request: DeleteRoomRequest): Promise<HttpReply>;
  createApiKey(body: Record<string, unknown>): Promise<HttpReply>;
  listApiKeys(): Promise<HttpReply>;
  revokeApiKey(id: string): Promise<HttpReply>;
  /** What the read-only operator endpoints read: the cluster in Redis, or this instance without it. */
  clusterView(): Promise<ClusterView>;
}

/**
 * Which endpoints a listener serves. `public`: /create-room (users create rooms). `operator`:
 * /metrics, the operator endpoints, /admin/keys, and /create-room too, so that an admin port
 * serves everything an operator does. The main port has both unless an admin port takes `operator`.
 */
export interface RouteSet {
  readonly operator: boolean;
  readonly public: boolean;
}

const MAX_BODY_BYTES = 64 * 1024;

/**
 * GET /health, GET /metrics, POST /create-room, the operator endpoints of the deployed server,
 * /admin/keys, and the read-only operator endpoints (inspect-routes.ts).
 */
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
    if ((routes.public || routes.operator) && path === '/create-room') {
      if (req.method !== 'POST') return json(res, 405, { error: 'use POST' });
      const caller = await backend.allowed(req, true);
      if (caller === null) return json(res, 401, { error: 'authentication required' });
      const body = await readJson(req);
      if (body === undefined) return json(res, 400, { error: 'body must be a JSON object' });
      return reply(res, await backend.createRoom({ caller, body }));
    }
    if (routes.operator && isInspectPath(path ?? '')) {
      if (req.method !== 'GET') return json(res, 405, { error: 'use GET' }, { allow: 'GET' });
      // Listing every room and peer is the operator's alone: the operator token, never a user's credential.
      const caller = await backend.allowed(req, false);
      if (caller === null) return json(res, 401, { error: 'operator token required' });
      const query = new URL(req.url ?? '/', 'http://localhost').searchParams;
      return reply(res, await inspectRoute(await backend.clusterView(), path!, query));
    }
    if (routes.operator && isOperatorPath(path)) {
      if (req.method !== 'POST' && !(req.method === 'GET' && path === '/admin/keys')) return json(res, 405, { error: 'use POST' });
      const caller = await backend.allowed(req, !path!.startsWith('/admin/'));
      if (caller === null) return json(res, 401, { error: 'operator token required' });
      const body = req.method === 'POST' ? await readJson(req) : {};
      if (body === undefined) return json(res, 400, { error: 'body must be a JSON object' });
      return reply(res, await operatorRoute(backend, caller, req.method!, path!, body));
    }
    json(res, 404, { error: 'not found' });
  } catch (err) {
    json(res, 503, { error: 'service unavailable', reason: err instanceof Error ? err.message : String(err) });
  }
}

function isOperatorPath(path: string | undefined): boolean {
  return path === '/delete-peer' || path === '/delete-peers-and-room' || path === '/admin/keys' || path === '/admin/keys/revoke';
}

async function operatorRoute(
  backend: HttpBackend,
  caller: Caller,
  method: string,
  path: string,
  body: Record<string, unknown>,
): Promise<HttpReply> {
  const str = (key: string) => (typeof body[key] === 'string' ? (body[key] as string) : undefined);
  const reason = body.reason === undefined ? { ok: true as const, reason: undefined } : checkCloseReason(body.reason);
  switch (path) {
    case '/delete-peer': {
      const peerId = str('peer_id');
      if (!reason.ok) return bad(reason.error);
      return peerId === undefined ? bad('peer_id is required') : backend.deletePeer({ caller, peerId, reason: reason.reason });
    }
    case '/delete-peers-and-room': {
      const roomId = str('room_id');
      const peerId = str('peer_id');
      if (!reason.ok) return bad(reason.error);
      if (roomId !== undefined) return backend.deleteRoom({ caller, roomId, reason: reason.reason });
      return peerId === undefined ? bad('room_id or peer_id is required') : backend.deleteRoom({ caller, peerId, reason: reason.reason });
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

function reply(res: ServerResponse, { status, body, headers }: HttpReply): void {
  json(res, status, body, headers);
}

function json(res: ServerResponse, status: number, body: Record<string, unknown>, headers: Record<string, string> = {}): void {
  if (res.headersSent) return;
  res.writeHead(status, { ...headers, 'content-type': 'application/json' });
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

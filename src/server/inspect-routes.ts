import { compileFilters } from '../protocol/filters.js';
import { peerDetailJson, roomJson, roomsJson, serversJson, statsJson, type RoomFilter } from '../admin/json-output.js';
import type { ClusterView, ListRoomsOptions } from '../admin/views.js';
import type { HttpReply } from './http-types.js';

/**
 * The read-only operator endpoints: GET /admin/rooms[?limit=N&all=1], /admin/rooms/ID[?role=R&tag=T...],
 * /admin/peers/ID (ids URL-encoded), /admin/servers, /admin/stats. Each answers with the document
 * `sleap-signal rooms | room | peer | servers | stats -o json` prints (json-output.ts).
 */
export function isInspectPath(path: string): boolean {
  return (
    path === '/admin/rooms' ||
    path === '/admin/servers' ||
    path === '/admin/stats' ||
    path.startsWith('/admin/rooms/') ||
    path.startsWith('/admin/peers/')
  );
}

export async function inspectRoute(view: ClusterView, path: string, query: URLSearchParams): Promise<HttpReply> {
  switch (path) {
    case '/admin/rooms': {
      const options = listOptions(query);
      return typeof options === 'string' ? bad(options) : ok(roomsJson(await view.listRooms(options), Date.now()));
    }
    case '/admin/servers':
      return ok(serversJson(await view.listServers(), Date.now()));
    case '/admin/stats':
      return ok(statsJson(await view.stats(), Date.now()));
  }
  const isRoom = path.startsWith('/admin/rooms/');
  const id = decode(path.slice(isRoom ? '/admin/rooms/'.length : '/admin/peers/'.length));
  if (id === null) return bad(`the ${isRoom ? 'room' : 'peer'} id in the path must be given, URL-encoded (encodeURIComponent)`);
  if (!isRoom) {
    const peer = await view.peer(id);
    return peer === null ? notFound(`peer "${id}" not found`) : ok(peerDetailJson(peer, Date.now()));
  }
  const filter: RoomFilter = { role: query.get('role'), tags: query.getAll('tag') };
  const compiled = compileFilters({ role: filter.role, tags: [...filter.tags] });
  if (!compiled.ok) return bad(compiled.error.message);
  const room = await view.room(id);
  return room === null ? notFound(`room "${id}" not found`) : ok(roomJson(room, room.peerList.filter(compiled.match), filter, Date.now()));
}

/** `limit`: a whole number of at least 1; `all`: present (empty), 1 or true. The error text otherwise. */
function listOptions(query: URLSearchParams): ListRoomsOptions | string {
  const limit = query.get('limit');
  if (limit !== null && !/^[1-9]\d{0,8}$/.test(limit)) return 'limit must be a whole number of at least 1';
  const all = query.get('all');
  if (all !== null && !['', '1', 'true', '0', 'false'].includes(all)) return 'all must be 1 or 0';
  return { limit: limit === null ? undefined : Number(limit), includeEmpty: all === '' || all === '1' || all === 'true' };
}

function decode(raw: string): string | null {
  try {
    const id = decodeURIComponent(raw);
    return id === '' ? null : id;
  } catch {
    return null;
  }
}

function ok(body: object): HttpReply {
  return { status: 200, body: body as Record<string, unknown> };
}

function bad(error: string): HttpReply {
  return { status: 400, body: { error } };
}

function notFound(error: string): HttpReply {
  return { status: 404, body: { error, code: 'NOT_FOUND' } };
}

import { AdminError, operatorRequest } from '../admin/admin-target.js';
import { NotFoundError } from './errors.js';
import { peerFromJson, roomFromJson, roomsFromJson, serversFromJson, statsFromJson, type Parsed } from './json-input.js';
import type { RoomFilter } from '../admin/json-output.js';
import type { InspectSource, Shown } from './inspect-source.js';
import type { KickResult, RoomDeleteResult } from '../admin/peer-removal.js';
import type { ListRoomsOptions, PeerView } from '../admin/views.js';

/**
 * The operator commands through a running server's operator endpoints (`--url`), on either backend:
 * GET /admin/rooms, /admin/rooms/ID, /admin/peers/ID, /admin/servers and /admin/stats answer with
 * the `-o json` documents, printed as they came and read back for the tables; kick and room delete
 * go through POST /delete-peer and /delete-peers-and-room.
 */
export class HttpSource implements InspectSource {
  constructor(
    private readonly baseUrl: string,
    private readonly token: string | null,
  ) {}

  async rooms(options: ListRoomsOptions) {
    const query = new URLSearchParams();
    if (options.limit !== undefined) query.set('limit', String(options.limit));
    if (options.includeEmpty === true) query.set('all', '1');
    const path = `/admin/rooms${query.size > 0 ? `?${query}` : ''}`;
    return { ...(await this.read(path, roomsFromJson, null)), emptyPrefix: null };
  }

  room(roomId: string, filter: RoomFilter) {
    const query = new URLSearchParams();
    if (filter.role !== null) query.set('role', filter.role);
    for (const tag of filter.tags) query.append('tag', tag);
    const path = `/admin/rooms/${encodeURIComponent(roomId)}${query.size > 0 ? `?${query}` : ''}`;
    return this.read(path, roomFromJson, `room "${roomId}" not found`);
  }

  peer(peerId: string) {
    return this.read(`/admin/peers/${encodeURIComponent(peerId)}`, peerFromJson, `peer "${peerId}" not found`);
  }

  servers() {
    return this.read('/admin/servers', serversFromJson, null);
  }

  stats() {
    return this.read('/admin/stats', statsFromJson, null);
  }

  /**
   * POST /delete-peer answers with the peer's room only: where the peer was connected comes from
   * reading it first. Its instance heard the close order unless it was dead.
   */
  async kick(peerId: string, reason: string): Promise<KickResult> {
    const { view } = await this.peer(peerId);
    const reply = await this.call('POST', '/delete-peer', { peer_id: peerId, reason });
    if (reply.status === 404) throw new NotFoundError(`peer "${peerId}" not found`);
    return { ...kicked(view, reason), roomId: typeof reply.body.room_id === 'string' ? reply.body.room_id : view.roomId };
  }

  /** As kick: the room is read first for where its peers were connected (one who joined meanwhile is removed too). */
  async deleteRoom(roomId: string, reason: string): Promise<RoomDeleteResult> {
    const { view } = await this.room(roomId, { role: null, tags: [] });
    const reply = await this.call('POST', '/delete-peers-and-room', { room_id: roomId, reason });
    if (reply.status === 404) throw new NotFoundError(`room "${roomId}" not found`);
    const ids = Array.isArray(reply.body.deleted_peers) ? reply.body.deleted_peers.filter((p): p is string => typeof p === 'string') : [];
    const known = new Map(view.peers.map((p) => [p.peerId, p]));
    const peers = ids.map((id) => {
      const peer = known.get(id);
      return peer === undefined ? { peerId: id, roomId, serverId: '', connectionId: '', reason, instanceNotified: true } : kicked(peer, reason);
    });
    return { roomId, peers, roomRemoved: true };
  }

  notReady(): string | null {
    return null;
  }

  async close(): Promise<void> {}

  private async read<V>(path: string, parse: (doc: unknown) => Parsed<V>, notFound: string | null): Promise<Shown<V>> {
    const reply = await this.call('GET', path);
    if (reply.status === 404) {
      // A room or peer the server does not know says so with a code; a bare 404 is an endpoint it does not have.
      if (notFound !== null && reply.body.code === 'NOT_FOUND') throw new NotFoundError(notFound);
      throw new AdminError(
        `GET ${path.split('?')[0]}: not found on ${this.baseUrl} (a server with --admin-port serves it on that port only; an older sleap-signal has no such endpoint)`,
      );
    }
    const parsed = parse(reply.body);
    if (!parsed.ok) throw new AdminError(`GET ${path.split('?')[0]}: the server answered with an unexpected document: ${parsed.error}`);
    return { view: parsed.value, document: reply.body, now: parsed.generatedAt };
  }

  private call(method: 'GET' | 'POST', path: string, body?: unknown) {
    return operatorRequest(this.baseUrl, this.token, method, path, body);
  }
}

function kicked(peer: PeerView, reason: string): KickResult {
  return {
    peerId: peer.peerId,
    roomId: peer.roomId,
    serverId: peer.serverId,
    connectionId: peer.connectionId,
    reason,
    instanceNotified: peer.instanceStatus !== 'dead',
  };
}

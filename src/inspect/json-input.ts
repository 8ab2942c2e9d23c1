import { isPlainObject, type JsonObject, type JsonValue } from '../protocol/json-value.js';
import { JSON_VERSION, type RoomFilter } from '../admin/json-output.js';
import type { ClusterStats, InstanceStatus, PeerDetail, PeerView, RoomDetail, RoomListing, RoomSummary, ServerView } from '../admin/views.js';

/**
 * The `-o json` documents read back into the views the tables are drawn from: a server's operator
 * endpoints answer with exactly these documents (json-output.ts), and the CLI renders them with the
 * same table code as a read straight from Redis. Every field is checked; a document of another
 * `version`, or not one at all (a proxy's error page), is refused with the first field that is wrong.
 */

/** A room as `room` shows it: the room, the peers that match the filter, the filter. */
export interface RoomShown {
  readonly room: RoomDetail;
  readonly peers: readonly PeerView[];
  readonly filter: RoomFilter;
}

/** A document read back, with the time it was made (Unix ms), or what is wrong with it. */
export type Parsed<T> =
  | { readonly ok: true; readonly value: T; readonly generatedAt: number }
  | { readonly ok: false; readonly code: 'BAD_DOCUMENT'; readonly error: string };

export const roomsFromJson = (doc: unknown): Parsed<RoomListing> =>
  parse(doc, (f) => ({ indexed: f.count('indexed'), truncated: f.bool('truncated'), rooms: f.list('rooms').map(summaryOf) }));

export const roomFromJson = (doc: unknown): Parsed<RoomShown> =>
  parse(doc, (f) => {
    const peers = f.list('peer_list').map(peerOf);
    const created = f.objectOrNull('created_room');
    const filters = f.object('filters');
    return {
      room: {
        ...summaryOf(f),
        peerList: peers,
        createdRoom: created === null ? null : { createdAt: created.timeOrNull('created_at'), expiresAt: created.timeOrNull('expires_at') },
      },
      peers,
      filter: { role: filters.stringOrNull('role'), tags: filters.strings('tags') },
    };
  });

export const peerFromJson = (doc: unknown): Parsed<PeerDetail> => parse(doc, (f) => ({ ...peerOf(f), instance: serverOf(f.object('server')) }));

export const serversFromJson = (doc: unknown): Parsed<ServerView[]> => parse(doc, (f) => f.list('servers').map(serverOf));

export const statsFromJson = (doc: unknown): Parsed<ClusterStats> =>
  parse(doc, (f) => {
    const instances = f.object('instances');
    const largest = f.objectOrNull('largest_room');
    return {
      instances: { live: instances.count('live'), late: instances.count('late'), dead: instances.count('dead') },
      connections: f.count('connections'),
      rooms: f.count('rooms'),
      peers: f.count('peers'),
      largestRoom: largest === null ? null : { roomId: largest.string('room_id'), peers: largest.count('peers') },
      relayRate: f.number('relay_rate'),
      relayedTotal: f.count('relayed_total'),
    };
  });

function summaryOf(f: Fields): RoomSummary {
  const expiresIn = f.numberOrNull('expires_in_seconds');
  return {
    roomId: f.string('room_id'),
    peers: f.count('peers'),
    roles: f.counts('roles'),
    admin: f.stringOrNull('admin'),
    createdAt: f.timeOrNull('created_at'),
    lastUsed: f.timeOrNull('last_used'),
    expiresInMs: expiresIn === null ? null : expiresIn * 1000,
  };
}

function peerOf(f: Fields): PeerView {
  return {
    peerId: f.string('peer_id'),
    roomId: f.string('room_id'),
    role: f.string('role'),
    metadata: f.json('metadata'),
    tags: f.strings('tags'),
    properties: f.json('properties'),
    connectedAt: f.time('connected_at') / 1000,
    serverId: f.string('server_id'),
    connectionId: f.string('connection_id'),
    instanceStatus: f.status('server_status'),
    presence: f.bool('presence'),
    admin: f.bool('admin'),
    subject: f.stringOrNull('subject'),
  };
}

function serverOf(f: Fields): ServerView {
  return {
    serverId: f.string('server_id'),
    status: f.status('status'),
    host: f.stringOrNull('host'),
    port: f.numberOrNull('port'),
    version: f.stringOrNull('version'),
    startedAt: f.timeOrNull('started_at'),
    heartbeatAt: f.timeOrNull('heartbeat_at'),
    connections: f.numberOrNull('connections'),
    peers: f.numberOrNull('peers'),
    heldPeers: f.count('held_peers'),
    relayedTotal: f.numberOrNull('relayed_total'),
    relayRate: f.numberOrNull('relay_rate'),
  };
}

function parse<T>(doc: unknown, read: (f: Fields) => T): Parsed<T> {
  try {
    const f = Fields.of(doc, '');
    const version = f.number('version');
    if (version !== JSON_VERSION) throw new ShapeError(`a document of version ${version}; this sleap-signal reads version ${JSON_VERSION}`);
    const generatedAt = f.time('generated_at');
    return { ok: true, value: read(f), generatedAt };
  } catch (err) {
    if (err instanceof ShapeError) return { ok: false, code: 'BAD_DOCUMENT', error: err.message };
    throw err;
  }
}

class ShapeError extends Error {}

const STATUSES: readonly string[] = ['live', 'late', 'dead'] satisfies InstanceStatus[];

/** The fields of one object of a document, each read as the type it must have. */
class Fields {
  private constructor(
    private readonly o: JsonObject,
    private readonly path: string,
  ) {}

  static of(value: unknown, path: string): Fields {
    if (!isPlainObject(value)) throw new ShapeError(`${path || 'the document'}: expected an object`);
    return new Fields(value, path);
  }

  private at(key: string): string {
    return this.path === '' ? key : `${this.path}.${key}`;
  }

  private fail(key: string, expected: string): never {
    const value = this.o[key];
    throw new ShapeError(`${this.at(key)}: expected ${expected}, got ${value === undefined ? 'nothing' : JSON.stringify(value).slice(0, 40)}`);
  }

  string(key: string): string {
    const v = this.o[key];
    return typeof v === 'string' ? v : this.fail(key, 'a string');
  }

  stringOrNull(key: string): string | null {
    return this.o[key] === null ? null : this.string(key);
  }

  number(key: string): number {
    const v = this.o[key];
    return typeof v === 'number' && Number.isFinite(v) ? v : this.fail(key, 'a number');
  }

  numberOrNull(key: string): number | null {
    return this.o[key] === null ? null : this.number(key);
  }

  /** A whole number, zero or more. */
  count(key: string): number {
    const v = this.o[key];
    return typeof v === 'number' && Number.isInteger(v) && v >= 0 ? v : this.fail(key, 'a count');
  }

  bool(key: string): boolean {
    const v = this.o[key];
    return typeof v === 'boolean' ? v : this.fail(key, 'true or false');
  }

  /** An ISO 8601 time, as Unix ms. */
  time(key: string): number {
    const v = this.o[key];
    const ms = typeof v === 'string' ? Date.parse(v) : Number.NaN;
    return Number.isFinite(ms) ? ms : this.fail(key, 'an ISO 8601 time');
  }

  timeOrNull(key: string): number | null {
    return this.o[key] === null ? null : this.time(key);
  }

  status(key: string): InstanceStatus {
    const v = this.o[key];
    return typeof v === 'string' && STATUSES.includes(v) ? (v as InstanceStatus) : this.fail(key, 'live, late or dead');
  }

  strings(key: string): string[] {
    const v = this.o[key];
    return Array.isArray(v) && v.every((s) => typeof s === 'string') ? (v as string[]) : this.fail(key, 'a list of strings');
  }

  /** Any JSON object (metadata, properties). */
  json(key: string): JsonObject {
    const v = this.o[key];
    return isPlainObject(v) ? v : this.fail(key, 'an object');
  }

  /** An object of counts (roles). */
  counts(key: string): Record<string, number> {
    const v: JsonValue | undefined = this.o[key];
    const ok = isPlainObject(v) && Object.values(v).every((n) => typeof n === 'number' && Number.isInteger(n) && n >= 0);
    return ok ? (v as Record<string, number>) : this.fail(key, 'an object of counts');
  }

  object(key: string): Fields {
    return Fields.of(this.o[key], this.at(key));
  }

  objectOrNull(key: string): Fields | null {
    return this.o[key] === null ? null : this.object(key);
  }

  list(key: string): Fields[] {
    const v = this.o[key];
    return Array.isArray(v) ? v.map((item, i) => Fields.of(item, `${this.at(key)}[${i}]`)) : this.fail(key, 'a list');
  }
}

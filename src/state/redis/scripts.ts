import type { RedisClient } from './redis-client.js';
import { LUA_SCRIPTS, type ScriptName } from './lua-sources.js';

/** A room's five keys, as KeySpace.room gives them: peers, routes, presence, meta, change log. */
export type RoomKeys = readonly [peers: string, routes: string, presence: string, meta: string, log: string];

type Arg = string | number;
type Raw = (string | number | null)[];
type Call = (...args: Arg[]) => Promise<unknown>;

/** A peer id's claim before this one, as claim.lua reports it. */
export interface PriorClaim {
  readonly connectionId: string;
  readonly roomId: string;
  readonly sessionHash: string;
  readonly subject: string;
  readonly connectedAt: string;
}

export interface ClaimArgs {
  readonly connectionId: string;
  readonly roomId: string;
  /** Hash of the session token offered as proof of a takeover ('' = none). */
  readonly proofHash: string;
  readonly proofSubject: string;
  readonly newestWins: boolean;
  readonly sessionHash: string;
  readonly connectedAt: string;
  readonly subject: string;
  readonly ttlSeconds: number;
  readonly ownershipTtlMs: number;
}

export type ClaimReply =
  | { readonly taken: true }
  | {
      readonly taken: false;
      /** The session hash Redis kept: the new one, the proof's, or the holder's own. */
      readonly sessionHash: string;
      readonly connectedAt: string;
      readonly prior: PriorClaim | null;
    };

export interface JoinArgs {
  readonly peerId: string;
  readonly recordJson: string;
  readonly connectionId: string;
  readonly presence: boolean;
  readonly maxPeers: number;
  readonly wantAdmin: boolean;
  /** The connection's previous peer id in this room, removed in the same step ('' = none). */
  readonly vacatedInRoom: string;
  readonly now: number;
  readonly ttlSeconds: number;
  /** The version the room will be at if only the caller's joins in flight change it ('' = no copy). */
  readonly expectedVersion: string;
  /** The version of the caller's copy now ('' = no copy). */
  readonly heldVersion: string;
  /** A fresh token, the room's epoch if this join begins the room (see roomEpoch). */
  readonly epoch: string;
  /**
   * The caller reads replies in the order Redis ran its calls (a standalone Redis: one connection),
   * so the changes it gets can start after its own latest earlier join (see changes-since.lua).
   */
  readonly ordered: boolean;
}

/** A peer whose record changed: its record now, or null when it left. */
export interface PeerChange {
  readonly peerId: string;
  readonly recordJson: string | null;
}

/**
 * The room as a join or a listing leaves it: the caller's copy was current (`same`), the peers
 * changed since the caller's copy (`changes`, the caller's own instance's joins left out), or the
 * whole room (`full`).
 */
export type RoomListing =
  | { readonly kind: 'same'; readonly versionBefore: string }
  | { readonly kind: 'changes'; readonly changes: readonly PeerChange[] }
  | { readonly kind: 'full'; readonly peers: readonly { readonly peerId: string; readonly recordJson: string }[] };

export type JoinReply =
  | { readonly joined: false }
  | {
      readonly joined: true;
      readonly admin: string | null;
      /** Set when the peer asked for the admin seat and someone else holds it. */
      readonly adminConflict: string | null;
      /** The peer's record in this room before the join. */
      readonly previousJson: string | null;
      readonly version: string;
      /** Other presence subscribers of the room. */
      readonly audience: number;
      readonly listing: RoomListing;
    };

export interface FreshArgs {
  readonly connectionId: string;
  readonly roomId: string;
  readonly sessionHash: string;
  readonly connectedAt: string;
  readonly subject: string;
  readonly ttlSeconds: number;
  readonly ownershipTtlMs: number;
  readonly now: number;
  readonly roomsIndexTtlMs: number;
}

export interface FreshKeys {
  readonly peer: string;
  readonly owner: string;
  readonly room: RoomKeys;
  readonly roomsIndex: string;
  readonly instancePeers: string;
}

export type RoomListReply =
  /** The room has no version (no meta): nothing to hold a copy against. */
  | { readonly kind: 'unversioned' }
  | { readonly kind: 'same'; readonly version: string }
  | { readonly kind: 'changes'; readonly version: string; readonly changes: readonly PeerChange[] }
  | { readonly kind: 'full'; readonly version: string; readonly records: readonly string[] };

export interface RouteTarget {
  readonly peerId: string;
  readonly envelope: string;
}

export interface RouteReply {
  /** Receivers of the publish to the target's instance; -1 when the target is not in the room. */
  readonly receivers: number;
  readonly connectionId: string;
}

export interface RestoreArgs {
  readonly peerId: string;
  readonly recordJson: string;
  readonly connectionId: string;
  readonly presence: boolean;
  readonly admin: boolean;
  readonly now: number;
  readonly ttlSeconds: number;
  /** A fresh token, the room's epoch if the restore begins the room again (see roomEpoch). */
  readonly epoch: string;
}

export interface CreateRoomArgs {
  readonly tokenHash: string;
  readonly createdAt: number;
  readonly expiresAt: number;
  readonly createdBy: string | null;
  readonly now: number;
}

const flag = (b: boolean) => (b ? '1' : '0');

/**
 * A token that tells one life of a room apart from the next under the same id: room versions are
 * "<epoch>:<n>", and n starts again at 1 when a room is made again after its records expired.
 */
export function roomEpoch(): string {
  return `${Date.now().toString(36)}${Math.random().toString(36).slice(2, 8)}`;
}
const orNull = (v: unknown) => (v ? String(v) : null);

/**
 * The Lua scripts (state/redis/lua/*.lua) behind typed calls: named arguments in, a named reply
 * out. The positions of KEYS, ARGV and reply fields live here and in the scripts' headers only.
 */
export class RedisScripts {
  private readonly calls: Record<ScriptName, Call>;

  constructor(client: RedisClient) {
    for (const [name, definition] of Object.entries(LUA_SCRIPTS)) client.defineCommand(name, definition);
    this.calls = client as unknown as Record<ScriptName, Call>;
  }

  async claim(peerKey: string, ownerKey: string, a: ClaimArgs): Promise<ClaimReply> {
    const r = (await this.calls.sigClaim(
      peerKey, ownerKey, a.connectionId, a.roomId, a.proofHash, a.proofSubject, flag(a.newestWins),
      a.sessionHash, a.connectedAt, a.subject, a.ttlSeconds, a.ownershipTtlMs,
    )) as Raw;
    if (r[0] === 'TAKEN') return { taken: true };
    const [, session, at, conn, room, priorSession, priorSubject, priorAt] = r.map((v) => String(v ?? ''));
    const prior = conn ? { connectionId: conn, roomId: room!, sessionHash: priorSession!, subject: priorSubject!, connectedAt: priorAt! } : null;
    return { taken: false, sessionHash: session!, connectedAt: at!, prior };
  }

  /** Undoes a claim (the room was full): the prior claim back, or the id free. */
  async unclaim(peerKey: string, connectionId: string, prior: PriorClaim | null): Promise<boolean> {
    const p = prior ?? { connectionId: '', roomId: '', sessionHash: '', subject: '', connectedAt: '' };
    return (await this.calls.sigUnclaim(peerKey, connectionId, p.connectionId, p.roomId, p.sessionHash, p.subject, p.connectedAt)) === 1;
  }

  /** Deletes the peer key if `connectionId` still holds it. */
  async release(peerKey: string, connectionId: string): Promise<boolean> {
    return (await this.calls.sigRelease(peerKey, connectionId)) === 1;
  }

  async join(room: RoomKeys, a: JoinArgs): Promise<JoinReply> {
    return joinReply((await this.calls.sigJoin(...room, ...joinArgv(a))) as Raw);
  }

  /** A first registration under a free id in one call; null when the id is held or owned. */
  async registerFresh(keys: FreshKeys, f: FreshArgs, a: JoinArgs): Promise<JoinReply | null> {
    const r = (await this.calls.sigRegisterFresh(
      keys.peer, keys.owner, ...keys.room, keys.roomsIndex, keys.instancePeers,
      f.connectionId, f.roomId, f.sessionHash, f.connectedAt, f.subject, f.ttlSeconds, f.ownershipTtlMs, f.now, f.roomsIndexTtlMs,
      ...joinArgv(a),
    )) as Raw;
    return r[0] === 'HELD' ? null : joinReply(r);
  }

  /** The removed record's JSON, or null when `connectionId` no longer held the peer. */
  async leave(room: RoomKeys, peerId: string, connectionId: string, now: number, ttlSeconds: number): Promise<string | null> {
    return (await this.calls.sigLeave(...room, peerId, connectionId, now, ttlSeconds)) as string | null;
  }

  async update(room: RoomKeys, peerId: string, connectionId: string, recordJson: string, ttlSeconds: number): Promise<boolean> {
    const [peers, routes, , meta, log] = room;
    return (await this.calls.sigUpdate(peers, routes, meta, log, peerId, connectionId, recordJson, ttlSeconds)) === 1;
  }

  async listRoom(room: RoomKeys, heldVersion: string): Promise<RoomListReply> {
    const [peers, , , meta, log] = room;
    const r = (await this.calls.sigListRoom(peers, meta, log, heldVersion)) as string[];
    const version = r[0]!;
    if (version === '') return { kind: 'unversioned' };
    if (r.length === 1) return { kind: 'same', version };
    if (r[1] === '2') return { kind: 'changes', version, changes: peerChanges(r, 2) };
    return { kind: 'full', version, records: r.slice(2) };
  }

  /** Routes the relays into one room in one call: one reply per target, in order. */
  async route(routesKey: string, channelPrefix: string, targets: readonly RouteTarget[]): Promise<RouteReply[]> {
    const argv: string[] = [routesKey, channelPrefix];
    for (const t of targets) argv.push(t.peerId, t.envelope);
    const r = (await this.calls.sigRoute(...argv)) as Raw;
    return targets.map((_, i) => ({ receivers: Number(r[2 * i]), connectionId: String(r[2 * i + 1] ?? '') }));
  }

  /** Publishes once to each instance with presence subscribers in the room, but `skipServer`. */
  async presence(presenceKey: string, channelPrefix: string, envelope: string, skipServer: string): Promise<number> {
    return Number(await this.calls.sigPresence(presenceKey, channelPrefix, envelope, skipServer));
  }

  /** True when the record had gone from the room (it was added back). */
  async restore(room: RoomKeys, a: RestoreArgs): Promise<boolean> {
    const added = await this.calls.sigRestore(...room, a.peerId, a.recordJson, a.connectionId, flag(a.presence), flag(a.admin), a.now, a.ttlSeconds, a.epoch);
    return Number(added) > 0;
  }

  /** False when a live record exists; rejects for an expiry that is not whole future milliseconds. */
  async createRoom(tokenKey: string, a: CreateRoomArgs): Promise<boolean> {
    const created = await this.calls.sigCreateRoom(tokenKey, a.tokenHash, String(a.createdAt), String(a.expiresAt), a.createdBy ?? '', String(a.now));
    return Number(created) === 1;
  }

  /** Removes an empty room's records; false when someone is in it. */
  async dropEmptyRoom(room: RoomKeys): Promise<boolean> {
    return (await this.calls.sigDropEmptyRoom(...room)) === 1;
  }
}

function joinArgv(a: JoinArgs): Arg[] {
  return [a.peerId, a.recordJson, a.connectionId, flag(a.presence), a.maxPeers, flag(a.wantAdmin), a.vacatedInRoom, a.now, a.ttlSeconds, a.expectedVersion, a.heldVersion, a.epoch, flag(a.ordered)];
}

/** Peer id and record (or '' for gone) pairs from `from` on. */
function peerChanges(r: readonly unknown[], from: number): PeerChange[] {
  const changes: PeerChange[] = [];
  for (let i = from + 1; i < r.length; i += 2) changes.push({ peerId: r[i - 1] as string, recordJson: (r[i] as string) || null });
  return changes;
}

function joinReply(r: Raw): JoinReply {
  if (r[0] === 'FULL') return { joined: false };
  let listing: RoomListing;
  if (r[6] === '0') listing = { kind: 'same', versionBefore: String(r[7]) };
  else if (r[6] === '2') listing = { kind: 'changes', changes: peerChanges(r, 7) };
  else {
    const peers: { peerId: string; recordJson: string }[] = [];
    for (let i = 8; i < r.length; i += 2) peers.push({ peerId: r[i - 1] as string, recordJson: r[i] as string });
    listing = { kind: 'full', peers };
  }
  return {
    joined: true,
    admin: orNull(r[1]),
    adminConflict: orNull(r[2]),
    previousJson: orNull(r[3]),
    version: String(r[4]),
    audience: Number(r[5]),
    listing,
  };
}

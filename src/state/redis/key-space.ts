/**
 * Every Redis key and channel name, under one prefix. All keys of a room share the hash tag
 * `{r:ROOM}`, a peer's key has `{p:PEER}`, an instance's keys `{s:SERVER}`, so every multi-key
 * script touches a single Redis Cluster slot.
 */
export class KeySpace {
  constructor(readonly prefix: string) {}

  /** HASH peer id → peer record (JSON). */
  roomPeers(roomId: string): string {
    return `${this.prefix}room:{r:${roomId}}:peers`;
  }
  /** HASH peer id → connection id (which starts with the server id): the routing table. */
  roomRoutes(roomId: string): string {
    return `${this.prefix}room:{r:${roomId}}:routes`;
  }
  /** HASH peer id → connection id, for peers that asked for presence events. */
  roomPresence(roomId: string): string {
    return `${this.prefix}room:{r:${roomId}}:presence`;
  }
  /** HASH created_at, last_used, admin. Expires roomTtl after last use. */
  roomMeta(roomId: string): string {
    return `${this.prefix}room:{r:${roomId}}:meta`;
  }
  /**
   * LIST of the room's latest changes, newest first, capped: "<version> <kind> <server> <peer id>"
   * (kind j join, r restore, u update, l leave; server only for joins). Lets a caller holding an
   * older copy of the room get only what changed since (see lua/changes-since.lua).
   */
  roomLog(roomId: string): string {
    return `${this.prefix}room:{r:${roomId}}:log`;
  }
  /** The five keys of a room, in the order the scripts take them. */
  room(roomId: string): [string, string, string, string, string] {
    return [this.roomPeers(roomId), this.roomRoutes(roomId), this.roomPresence(roomId), this.roomMeta(roomId), this.roomLog(roomId)];
  }
  /** ZSET room id → last use (ms): the room index, so nothing needs KEYS or SCAN. */
  get rooms(): string {
    return `${this.prefix}rooms`;
  }
  /** HASH room, conn, session, subject, at: who holds a peer id. */
  peer(peerId: string): string {
    return `${this.prefix}peer:{p:${peerId}}`;
  }
  /** STRING: the authenticated subject that owns a peer id; expires after the ownership TTL. */
  peerOwner(peerId: string): string {
    return `${this.prefix}peer:{p:${peerId}}:owner`;
  }
  /** HASH token_hash, created_at, expires_at of a created room; expires at expires_at. */
  roomToken(roomId: string): string {
    return `${this.prefix}room:{r:${roomId}}:token`;
  }
  /** STRING (JSON) one API key record, hashed secret only. */
  apiKey(id: string): string {
    return `${this.prefix}apikey:{k:${id}}`;
  }
  /** SET of API key ids. */
  get apiKeys(): string {
    return `${this.prefix}apikeys`;
  }
  /** ZSET server id → last heartbeat (ms): the instance index. */
  get servers(): string {
    return `${this.prefix}servers`;
  }
  /** HASH host, port, version, started_at, connections, peers, heartbeat_at; expires unless refreshed. */
  server(serverId: string): string {
    return `${this.prefix}server:{s:${serverId}}`;
  }
  /** SET of the peer ids an instance holds, for the reaper. */
  serverPeers(serverId: string): string {
    return `${this.prefix}server:{s:${serverId}}:peers`;
  }
  /** STRING lock: the one instance reaping a dead one. */
  reapLock(serverId: string): string {
    return `${this.prefix}server:{s:${serverId}}:reaping`;
  }
  /**
   * Pub/sub channel of one instance: deliveries, presence events, control. Its hash tag puts it in
   * the instance's slot, so that on Redis Cluster a sharded publish goes to one shard only.
   */
  channel(serverId: string): string {
    return `${this.channelPrefix}${serverId}}`;
  }
  /** What scripts prepend to a server id (and close with `}`) to name its channel. */
  get channelPrefix(): string {
    return `${this.prefix}bus:{s:`;
  }
}

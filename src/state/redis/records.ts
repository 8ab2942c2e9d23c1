import { discoveryOrder, type ApiKeyRecord, type PeerRecord, type RoomCensus, type RoomEntry, type RoomRecord } from '../state-backend.js';
import { requireWholeMs } from '../record-times.js';
import { parseApiKeyRecord } from './api-key-json.js';
import type { RedisCore } from './redis-core.js';

/** Records apart from peers: created rooms, API keys, and the room index read for census and views. */
export class RedisRecords {
  constructor(
    private readonly core: RedisCore,
    /** Marks a room used in the room index. */
    private readonly touchRoom: (roomId: string, now: number) => Promise<unknown>,
  ) {}

  async census(): Promise<RoomCensus> {
    const { cmd, keys, runner } = this.core;
    const rooms = await runner.run('census', () => cmd.zrevrange(keys.rooms, 0, 9_999));
    if (rooms.length === 0) return { rooms: 0, sizes: [] };
    const counts = await runner.run('census', () => runner.batch(rooms.map((r) => () => cmd.hlen(keys.roomPeers(r)))));
    const sizes = counts.filter((n) => n > 0);
    return { rooms: sizes.length, sizes };
  }

  async createRoom(room: RoomRecord): Promise<boolean> {
    requireWholeMs(room.expiresAt, 'room expiry');
    const { keys, runner, scripts } = this.core;
    const created = await runner.run('create_room', () =>
      scripts.createRoom(keys.roomToken(room.roomId), { tokenHash: room.tokenHash, createdAt: room.createdAt, expiresAt: room.expiresAt, createdBy: room.createdBy, now: Date.now() }),
    );
    if (!created) return false;
    await this.touchRoom(room.roomId, Date.now());
    return true;
  }

  async getRoom(roomId: string): Promise<RoomRecord | null> {
    const { cmd, keys, runner } = this.core;
    const raw = await runner.run('get_room', () => cmd.hgetall(keys.roomToken(roomId)));
    if (!raw.token_hash) return null;
    const room: RoomRecord = {
      roomId,
      tokenHash: raw.token_hash,
      createdAt: Number(raw.created_at),
      expiresAt: Number(raw.expires_at),
      createdBy: raw.created_by ?? null,
    };
    return room.expiresAt > Date.now() ? room : null;
  }

  /**
   * A room's created-room record goes; the room's other records too once nobody is in it (a peer
   * joining meanwhile keeps them). True when the room is gone entirely.
   */
  async deleteRoom(roomId: string): Promise<boolean> {
    const { cmd, keys, runner, scripts } = this.core;
    await runner.run('delete_room', () => cmd.del(keys.roomToken(roomId)));
    const dropped = await runner.run('drop_room', () => scripts.dropEmptyRoom(keys.room(roomId)));
    if (dropped) await runner.run('drop_room', () => cmd.zrem(keys.rooms, roomId));
    return dropped;
  }

  async putApiKey(key: ApiKeyRecord): Promise<void> {
    if (key.expiresAt !== null) requireWholeMs(key.expiresAt, 'API key expiry');
    const { cmd, keys, runner } = this.core;
    const keyName = keys.apiKey(key.id);
    await runner.run('put_api_key', async () => {
      // Indexed first: an id whose record is missing is dropped from the index by listApiKeys.
      await cmd.sadd(keys.apiKeys, key.id);
      // The record and its expiry (a day after the key's, so that lists show it expired) together.
      const tx = cmd.multi().set(keyName, JSON.stringify(key));
      if (key.expiresAt !== null) tx.pexpireat(keyName, key.expiresAt + 86_400_000);
      const replies = await tx.exec();
      const failed = replies?.find(([err]) => err !== null);
      if (failed) throw failed[0];
    });
  }

  async getApiKey(id: string): Promise<ApiKeyRecord | null> {
    const { cmd, keys, runner } = this.core;
    const raw = await runner.run('get_api_key', () => cmd.get(keys.apiKey(id)));
    return raw ? parseApiKeyRecord(raw) : null;
  }

  async listApiKeys(): Promise<ApiKeyRecord[]> {
    const { cmd, keys, runner } = this.core;
    const ids = await runner.run('list_api_keys', () => cmd.smembers(keys.apiKeys));
    if (ids.length === 0) return [];
    const raws = await runner.run('list_api_keys', () => runner.batch(ids.map((id) => () => cmd.get(keys.apiKey(id)))));
    const gone = ids.filter((_, i) => !raws[i]);
    if (gone.length > 0) await runner.run('list_api_keys', () => cmd.srem(keys.apiKeys, ...gone));
    return raws
      .filter((r): r is string => r !== null)
      .map(parseApiKeyRecord)
      .sort((a, b) => a.createdAt - b.createdAt);
  }

  async revokeApiKey(id: string, at: number): Promise<boolean> {
    const key = await this.getApiKey(id);
    if (!key) return false;
    await this.putApiKey({ ...key, revokedAt: key.revokedAt ?? at });
    return true;
  }

  /** The rooms of the index (never KEYS or SCAN) that have peers or a live created-room record. */
  async listRooms(): Promise<RoomEntry[]> {
    const { cmd, keys, runner } = this.core;
    const index = await runner.run('list_rooms', () => cmd.zrevrange(keys.rooms, 0, -1, 'WITHSCORES'));
    const roomIds = index.filter((_, i) => i % 2 === 0);
    const read = (roomId: string) => () =>
      Promise.all([
        cmd.hvals(keys.roomPeers(roomId)),
        cmd.hmget(keys.roomMeta(roomId), 'created_at', 'last_used', 'admin'),
        cmd.hmget(keys.roomToken(roomId), 'created_at', 'expires_at'),
      ]);
    const replies = await runner.run('list_rooms', () => runner.batch(roomIds.map(read)));
    const now = Date.now();
    const num = (v: string | null | undefined) => (v ? Number(v) : null);
    const entries: RoomEntry[] = [];
    replies.forEach(([peers, [createdAt, lastUsed, admin], [tokenCreatedAt, tokenExpiresAt]], i) => {
      const expiresAt = num(tokenExpiresAt);
      const createdRoom = expiresAt !== null && expiresAt > now ? { createdAt: num(tokenCreatedAt) ?? 0, expiresAt } : null;
      if (peers.length === 0 && createdRoom === null) return;
      entries.push({
        roomId: roomIds[i]!,
        peers: peers.map((r) => JSON.parse(r) as PeerRecord).sort(discoveryOrder),
        admin: admin || null,
        createdAt: num(createdAt) ?? createdRoom?.createdAt ?? null,
        lastUsed: num(lastUsed) ?? num(index[i * 2 + 1]),
        createdRoom,
      });
    });
    return entries;
  }
}

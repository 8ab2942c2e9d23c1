import type { ChainableCommander } from 'ioredis';
import type { RedisClient } from '../state/redis/redis-client.js';
import { pipelineOf } from './spread-pipeline.js';
import { CloseCode } from '../protocol/close-codes.js';
import { peerLeftFrame } from '../protocol/frames.js';
import { controlEnvelope, presenceEnvelope } from '../state/redis/bus-envelope.js';
import type { KeySpace } from '../state/redis/key-space.js';
import { serverOfConnection } from '../state/state-backend.js';
import { SCRIPTS } from '../state/redis/scripts.js';
import type { ControlMessage } from '../state/state-backend.js';
import { exec } from './cluster-reader.js';
import { NotFoundError } from './errors.js';

/** The close reason the kicked client gets, unless the operator gives one. */
export const DEFAULT_KICK_REASON = 'removed by an operator';

/** A room's records expire this long after their last use when their TTL cannot be read (serve's default). */
const FALLBACK_ROOM_TTL_S = 2 * 3600;

/**
 * Removes a room whose peers are all gone, with everything it holds (admin seat, created_at),
 * atomically: a peer joining meanwhile keeps the room. KEYS: peers, routes, presence, meta.
 */
const DROP_EMPTY_ROOM = `
if redis.call('HLEN', KEYS[1]) > 0 or redis.call('HLEN', KEYS[2]) > 0 then return 0 end
redis.call('DEL', KEYS[1], KEYS[2], KEYS[3], KEYS[4])
return 1
`;

export interface KickResult {
  readonly peerId: string;
  readonly roomId: string;
  readonly serverId: string;
  readonly connectionId: string;
  readonly reason: string;
  /** Whether the instance holding the connection heard the close order (false: it is gone). */
  readonly instanceNotified: boolean;
}

export interface RoomDeleteResult {
  readonly roomId: string;
  /** The peers removed, in the order they were removed. */
  readonly peers: readonly KickResult[];
  /** Whether the room's records were deleted (false when someone joined meanwhile). */
  readonly roomRemoved: boolean;
}

type Reply = string | number | null;

interface ScriptCommands {
  sigInspectDropRoom(...args: string[]): Promise<number>;
}

/** A pipeline with the scripts ioredis added to the client. */
interface ScriptPipeline extends ChainableCommander {
  sigLeave(...args: (string | number)[]): ScriptPipeline;
  sigRelease(...args: (string | number)[]): ScriptPipeline;
  sigPresence(...args: (string | number)[]): ScriptPipeline;
}

interface Target {
  readonly peerId: string;
  readonly connectionId: string;
}

/**
 * The deployed service's delete-peer and delete-room, run from an operator's shell against
 * Redis: with the same scripts the instances use, the shared records go first (so a dead owner
 * cannot keep them), the room's presence subscribers are told `kicked`, and the instance holding
 * each connection is told on its bus channel to close it (1000), which it does without
 * announcing the leave a second time. Deleting a room also removes its token record (a room
 * created ahead of use) and, once no peer is left, its other records and index entry.
 *
 * On Redis Cluster 7+ the instances listen on sharded channels: presence and close orders then go
 * out with SPUBLISH.
 */
export class OperatorActions {
  private readonly scripts: ScriptCommands;

  constructor(
    private readonly redis: RedisClient,
    private readonly keys: KeySpace,
    /** Redis Cluster 7+: the instances listen on sharded channels (SPUBLISH, not PUBLISH). */
    private readonly sharded = false,
  ) {
    for (const name of ['sigLeave', 'sigRelease', 'sigPresence'] as const) redis.defineCommand(name, SCRIPTS[name]);
    redis.defineCommand('sigInspectDropRoom', { numberOfKeys: 4, lua: DROP_EMPTY_ROOM });
    this.scripts = redis as unknown as ScriptCommands;
  }

  async kick(peerId: string, reason = DEFAULT_KICK_REASON): Promise<KickResult> {
    // A peer that re-registers while it is being kicked moves its route; look again.
    for (let attempt = 0; attempt < 3; attempt++) {
      const roomId = await this.redis.hget(this.keys.peer(peerId), 'room');
      if (!roomId) throw new NotFoundError(`peer "${peerId}" not found`);
      const [connectionId, pttl] = (await exec(
        pipelineOf(this.redis).hget(this.keys.roomRoutes(roomId), peerId).pttl(this.keys.roomMeta(roomId)),
      )) as [string | null, number];
      if (!connectionId) throw new NotFoundError(`peer "${peerId}" not found (its claim names room "${roomId}", which does not hold it)`);
      const [removed] = await this.remove(roomId, [{ peerId, connectionId }], ttlSeconds(pttl));
      if (removed === undefined) continue;
      const serverId = serverOfConnection(connectionId);
      const envelope = presenceEnvelope(roomId, connectionId, peerLeftFrame(peerId, 'kicked'));
      if (this.sharded) {
        const subscribers = (await this.redis.hvals(this.keys.roomPresence(roomId))).map(serverOfConnection);
        await Promise.all([...new Set(subscribers)].map((s) => this.redis.spublish(this.keys.channel(s), envelope)));
        const heard = await this.redis.spublish(this.keys.channel(serverId), controlEnvelope(closeOrder(peerId, connectionId, reason)));
        return { peerId, roomId, serverId, connectionId, reason, instanceNotified: Number(heard) > 0 };
      }
      const replies = await exec(
        this.pipeline()
          .sigPresence(this.keys.roomPresence(roomId), this.keys.channelPrefix, envelope, '')
          .publish(this.keys.channel(serverId), controlEnvelope(closeOrder(peerId, connectionId, reason))),
      );
      return { peerId, roomId, serverId, connectionId, reason, instanceNotified: Number(replies[1]) > 0 };
    }
    throw new Error(`peer "${peerId}" kept re-registering while being kicked; try again`);
  }

  async deleteRoom(roomId: string, reason = DEFAULT_KICK_REASON): Promise<RoomDeleteResult> {
    const kicked: KickResult[] = [];
    let seen = false;
    // Peers that join while the room is being deleted are removed too, within a few rounds.
    for (let round = 0; round < 3; round++) {
      const [routes, presence, pttl, token] = (await exec(
        pipelineOf(this.redis)
          .hgetall(this.keys.roomRoutes(roomId))
          .hvals(this.keys.roomPresence(roomId))
          .pttl(this.keys.roomMeta(roomId))
          .exists(this.keys.roomToken(roomId)),
      )) as [Record<string, string>, string[], number, number];
      const targets = Object.entries(routes).map(([peerId, connectionId]) => ({ peerId, connectionId }));
      if (targets.length === 0) {
        if (!seen && pttl === -2 && token === 0) throw new NotFoundError(`room "${roomId}" not found`);
        break;
      }
      seen = true;
      const removed = await this.remove(roomId, targets, ttlSeconds(pttl));
      // The room's presence subscribers, as they were before the removal, hear about each peer
      // (the subscribers' instances first, then the close orders, on the same channels in order).
      const subscriberServers = [...new Set(presence.map(serverOfConnection))];
      const pipeline = pipelineOf(this.redis);
      const publish = (channel: string, message: string) =>
        this.sharded ? pipeline.spublish(channel, message) : pipeline.publish(channel, message);
      for (const t of removed) {
        const envelope = presenceEnvelope(roomId, t.connectionId, peerLeftFrame(t.peerId, 'kicked'));
        for (const s of subscriberServers) publish(this.keys.channel(s), envelope);
      }
      for (const t of removed) publish(this.keys.channel(serverOfConnection(t.connectionId)), controlEnvelope(closeOrder(t.peerId, t.connectionId, reason)));
      const replies = await exec(pipeline);
      const orders = replies.slice(removed.length * subscriberServers.length);
      removed.forEach((t, i) =>
        kicked.push({ ...t, roomId, serverId: serverOfConnection(t.connectionId), reason, instanceNotified: Number(orders[i]) > 0 }),
      );
    }
    // A created room's token goes with it, as with the service's delete-peers-and-room; the
    // other records go if no peer joined meanwhile.
    await this.redis.del(this.keys.roomToken(roomId));
    const dropped = (await this.scripts.sigInspectDropRoom(...this.keys.room(roomId))) === 1;
    if (dropped) await this.redis.zrem(this.keys.rooms, roomId);
    return { roomId, peers: kicked, roomRemoved: dropped };
  }

  private pipeline(): ScriptPipeline {
    return pipelineOf(this.redis) as ScriptPipeline;
  }

  /**
   * Removes peers from a room (only where `connectionId` still holds them), releases their
   * peer ids and takes them out of their instances' sets, in one pipeline. Returns those removed.
   */
  private async remove(roomId: string, targets: readonly Target[], ttl: number): Promise<Target[]> {
    const now = Date.now();
    const pipeline = this.pipeline();
    for (const t of targets) {
      pipeline.sigLeave(...this.keys.room(roomId), t.peerId, t.connectionId, now, ttl);
      pipeline.sigRelease(this.keys.peer(t.peerId), t.connectionId);
      pipeline.srem(this.keys.serverPeers(serverOfConnection(t.connectionId)), t.peerId);
    }
    // Marks the room used, as an instance does on a leave (XX: never recreates a dropped index).
    pipeline.zadd(this.keys.rooms, 'XX', now, roomId);
    const replies = (await exec(pipeline)) as Reply[];
    return targets.filter((_, i) => replies[i * 3] !== null);
  }
}

function closeOrder(peerId: string, connectionId: string, reason: string): ControlMessage {
  return { kind: 'close', peerId, connectionId, code: CloseCode.NORMAL, reason, leftReason: 'kicked' };
}

/** The room's current time to live, kept as it is by the scripts that refresh it. */
function ttlSeconds(pttl: number): number {
  return pttl > 0 ? Math.max(1, Math.ceil(pttl / 1000)) : FALLBACK_ROOM_TTL_S;
}

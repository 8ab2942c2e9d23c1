import { serverOfConnection } from '../state-backend.js';
import type { Bus } from './bus.js';
import type { RedisCore } from './redis-core.js';
import type { RouteReply } from './scripts.js';

/**
 * The bus on Redis Cluster 7+: instances listen on sharded channels, so a delivery looks the
 * target up in its room's slot, then SPUBLISHes to the shard of the target instance's channel.
 */
export class ShardedBus implements Bus {
  readonly missesDuringFailover = true;

  constructor(private readonly core: RedisCore) {}

  async route(roomId: string, peerId: string, envelope: string): Promise<RouteReply> {
    const { cmd, keys, runner } = this.core;
    const conn = await runner.run('route_lookup', () => cmd.hget(keys.roomRoutes(roomId), peerId));
    if (conn === null) return { receivers: -1, connectionId: '' };
    return { receivers: await this.publish(serverOfConnection(conn), envelope), connectionId: conn };
  }

  async fanOutPresence(roomId: string, envelope: string, skipServer: string): Promise<void> {
    const { cmd, keys, runner } = this.core;
    const conns = await runner.run('presence', () => cmd.hvals(keys.roomPresence(roomId)));
    const servers = new Set(conns.map(serverOfConnection));
    servers.delete(skipServer);
    await Promise.all([...servers].map((s) => this.publish(s, envelope)));
  }

  async publish(serverId: string, message: string): Promise<number> {
    const { cmd, keys, runner } = this.core;
    return Number(await runner.run('spublish', () => cmd.spublish(keys.channel(serverId), message)));
  }
}

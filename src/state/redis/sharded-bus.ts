import { serverOfConnection } from '../state-backend.js';
import type { Bus } from './bus.js';
import { batchMessage } from './bus-envelope.js';
import { TickBatches } from './tick-batches.js';
import type { RedisCore } from './redis-core.js';
import type { RouteReply } from './scripts.js';

/**
 * The bus on Redis Cluster 7+: instances listen on sharded channels, so a delivery looks the
 * target up in its room's slot, then SPUBLISHes to the shard of the target instance's channel.
 */
export class ShardedBus implements Bus {
  readonly missesDuringFailover = true;

  private readonly direct = new TickBatches<string, number>(async (serverId, envelopes) => {
    const { cmd, keys, runner } = this.core;
    const receivers = Number(await runner.run('spublish', () => cmd.spublish(keys.channel(serverId), batchMessage(envelopes))));
    return envelopes.map(() => receivers);
  });

  constructor(private readonly core: RedisCore) {}

  deliver(serverId: string, envelope: string): Promise<number> {
    return this.direct.add(serverId, envelope);
  }

  async route(roomId: string, peerId: string, envelope: string): Promise<RouteReply> {
    const { cmd, keys, runner } = this.core;
    const conn = await runner.run('route_lookup', () => cmd.hget(keys.roomRoutes(roomId), peerId));
    if (conn === null) return { receivers: -1, connectionId: '' };
    const receivers = await runner.run('spublish', () => cmd.spublish(keys.channel(serverOfConnection(conn)), envelope));
    return { receivers: Number(receivers), connectionId: conn };
  }

  async fanOutPresence(roomId: string, envelope: string, skipServer: string): Promise<void> {
    const { cmd, keys, runner } = this.core;
    const conns = await runner.run('presence', () => cmd.hvals(keys.roomPresence(roomId)));
    const servers = new Set(conns.map(serverOfConnection));
    servers.delete(skipServer);
    await Promise.all([...servers].map((s) => runner.run('spublish', () => cmd.spublish(keys.channel(s), envelope))));
  }

  async publish(serverId: string, envelope: string): Promise<number> {
    const { cmd, keys, runner } = this.core;
    return Number(await runner.run('publish', () => cmd.spublish(keys.channel(serverId), envelope)));
  }
}

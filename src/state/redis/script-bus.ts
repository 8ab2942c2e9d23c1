import type { Bus } from './bus.js';
import { TickBatches } from './tick-batches.js';
import type { RedisCore } from './redis-core.js';
import type { RouteReply, RouteTarget } from './scripts.js';

/**
 * The bus on a standalone Redis (or a cluster older than 7): the scripts look targets up and
 * PUBLISH in the same call. Relays into one room within a tick go to Redis as one route call
 * (one PUBLISH per target instance).
 */
export class ScriptBus implements Bus {
  readonly missesDuringFailover = false;
  private readonly routes = new TickBatches<RouteTarget, RouteReply>((roomId, targets) => {
    const { keys, runner, scripts } = this.core;
    return runner.run('route', () => scripts.route(keys.roomRoutes(roomId), keys.channelPrefix, targets));
  });

  constructor(private readonly core: RedisCore) {}

  route(roomId: string, peerId: string, envelope: string): Promise<RouteReply> {
    return this.routes.add(roomId, { peerId, envelope });
  }

  async fanOutPresence(roomId: string, envelope: string, skipServer: string): Promise<void> {
    const { keys, runner, scripts } = this.core;
    await runner.run('presence', () => scripts.presence(keys.roomPresence(roomId), keys.channelPrefix, envelope, skipServer));
  }

  async publish(serverId: string, message: string): Promise<number> {
    const { cmd, keys, runner } = this.core;
    return Number(await runner.run('publish', () => cmd.publish(keys.channel(serverId), message)));
  }
}

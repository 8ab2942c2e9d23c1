import type { Bus } from './bus.js';
import { ChannelBatcher } from './channel-batcher.js';
import type { RedisCore } from './redis-core.js';
import type { RouteReply } from './scripts.js';

/** A relay waiting for its tick's routing call. */
interface PendingRoute {
  readonly peerId: string;
  readonly envelope: string;
  readonly resolve: (reply: RouteReply) => void;
  readonly reject: (err: unknown) => void;
}

/**
 * The bus on a standalone Redis (or a cluster older than 7): the scripts look targets up and
 * PUBLISH in the same call. Relays into one room within a tick go to Redis as one route call
 * (one PUBLISH per target instance).
 */
export class ScriptBus implements Bus {
  readonly missesDuringFailover = false;
  private batches = new Map<string, PendingRoute[]>();
  private flushQueued = false;

  private readonly direct = new ChannelBatcher((serverId, message) => this.publish(serverId, message));

  constructor(private readonly core: RedisCore) {}

  deliver(serverId: string, envelope: string): Promise<number> {
    return this.direct.send(serverId, envelope);
  }

  route(roomId: string, peerId: string, envelope: string): Promise<RouteReply> {
    return new Promise((resolve, reject) => {
      let batch = this.batches.get(roomId);
      if (batch === undefined) this.batches.set(roomId, (batch = []));
      batch.push({ peerId, envelope, resolve, reject });
      if (!this.flushQueued) {
        this.flushQueued = true;
        process.nextTick(this.flush);
      }
    });
  }

  private readonly flush = (): void => {
    this.flushQueued = false;
    const batches = this.batches;
    this.batches = new Map();
    const { keys, runner, scripts } = this.core;
    for (const [roomId, batch] of batches) {
      runner.run('route', () => scripts.route(keys.roomRoutes(roomId), keys.channelPrefix, batch)).then(
        (replies) => batch.forEach((r, i) => r.resolve(replies[i]!)),
        (err: unknown) => batch.forEach((r) => r.reject(err)),
      );
    }
  };

  async fanOutPresence(roomId: string, envelope: string, skipServer: string): Promise<void> {
    const { keys, runner, scripts } = this.core;
    await runner.run('presence', () => scripts.presence(keys.roomPresence(roomId), keys.channelPrefix, envelope, skipServer));
  }

  async publish(serverId: string, envelope: string): Promise<number> {
    const { cmd, keys, runner } = this.core;
    return Number(await runner.run('publish', () => cmd.publish(keys.channel(serverId), envelope)));
  }
}

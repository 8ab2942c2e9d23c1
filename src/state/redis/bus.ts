import type { RouteReply } from './scripts.js';

export type { RouteReply };

/** How envelopes reach other instances' channels. */
export interface Bus {
  /**
   * Hands a relay's envelope to the instance holding `targetPeerId` in `roomId`: the publish's
   * receivers and the target's connection, or receivers -1 when the target is not in the room.
   */
  route(roomId: string, targetPeerId: string, envelope: string): Promise<RouteReply>;
  /** Publishes once to every instance with presence subscribers in the room, but `skipServer`. */
  fanOutPresence(roomId: string, envelope: string, skipServer: string): Promise<void>;
  /** One message (an envelope, or a batch of them) to one instance's channel; resolves to the receivers counted. */
  publish(serverId: string, message: string): Promise<number>;
  /**
   * Whether a channel can have no subscriber for a moment while its instance lives: on a cluster
   * a subscriber misses while its shard fails over.
   */
  readonly missesDuringFailover: boolean;
}

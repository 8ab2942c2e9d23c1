import { StateUnavailableError } from '../../protocol/error-codes.js';
import { serverOfConnection, type BackendObserver, type BusSink, type OutboundFrame, type RefusalReason, type RelayOrigin, type RouteResult } from '../state-backend.js';
import type { Bus } from './bus.js';
import { batchMessage, deliverEnvelope, refusedEnvelope, type RoutedRelay } from './bus-envelope.js';
import { TickBatches } from './tick-batches.js';
import type { RedisCore } from './redis-core.js';

export interface RelayRoutingDeps {
  readonly core: RedisCore;
  bus(): Bus;
  /** Whether publishes report their receivers (not on a cluster older than 7). */
  receiversCounted(): boolean;
  /** Whether an instance that nobody answered for counts as alive (its heartbeat is fresh). */
  looksAlive(serverId: string): Promise<boolean>;
  /** The connection the sender's instance's copy of the room names for the target, or null. */
  copyRoute(roomId: string, peerId: string): string | null;
  /** The copy of the room lacked a target that shared state found in it: the copy is behind. */
  copyBehind(roomId: string): void;
  /** Removes a peer of an instance that is gone. */
  reapPeer(peerId: string, connectionId: string, roomId: string): Promise<void>;
  serverId(): string;
  sink(): BusSink | null;
  observer(): BackendObserver;
}

/**
 * Relays between instances: a relay goes to the instance holding its target; one that arrives
 * where the target has no open connection any more is routed once more, and failing that its
 * sender is answered. Never silence.
 */
export class RelayRouting {
  /** Relays sent straight to an instance: one message per instance and tick. */
  private readonly direct = new TickBatches<string, number>(async (serverId, envelopes) => {
    const receivers = await this.deps.bus().publish(serverId, batchMessage(envelopes));
    return envelopes.map(() => receivers);
  });

  constructor(private readonly deps: RelayRoutingDeps) {}

  async route(relay: RoutedRelay, frame: string): Promise<RouteResult> {
    const { roomId, peerId } = relay;
    const { bus, core } = this.deps;
    const envelope = deliverEnvelope(relay, frame);
    // Where this instance's copy of the room names the target's connection, the relay goes straight
    // to that instance: no script, no look-up. A copy that is stale costs a detour, not a loss: the
    // instance that finds no such peer routes it once more through shared state (undeliverable).
    // A relay on that detour, and one that nobody received, take the look-up.
    const known = relay.reroutes === 0 ? this.deps.copyRoute(roomId, peerId) : null;
    if (known !== null) {
      const receivers = await this.direct.add(serverOfConnection(known), envelope);
      if (receivers > 0 || !this.deps.receiversCounted()) return 'delivered';
    }
    const reply = await bus().route(roomId, peerId, envelope);
    if (reply.receivers > 0 || (reply.receivers === 0 && !this.deps.receiversCounted())) {
      if (known === null && relay.reroutes === 0) this.deps.copyBehind(roomId);
      return 'delivered';
    }
    if (reply.receivers < 0) {
      const exists = await core.runner.run('exists', () => core.cmd.exists(core.keys.peer(peerId)));
      return exists ? 'not_in_room' : 'not_found';
    }
    // Nobody listens on that instance's channel: it is gone; clean its stale entry now. On a cluster a
    // subscriber also misses while its shard fails over: there, an instance whose heartbeat is still
    // fresh counts as alive and the sender is told to retry instead.
    const conn = reply.connectionId;
    if (bus().missesDuringFailover && (await this.deps.looksAlive(serverOfConnection(conn)))) {
      throw new StateUnavailableError('the target\'s instance is not receiving right now');
    }
    await this.deps.reapPeer(peerId, conn, roomId);
    return 'not_found';
  }

  /**
   * A relay routed here whose peer has no open connection here (its socket closed, or it was taken
   * over by a connection elsewhere since the sender routed it). Shared state is asked once more
   * where the peer is; a second miss, or no such peer, is answered to the sender.
   */
  undeliverable(relay: RoutedRelay, frame: OutboundFrame): void {
    const observer = this.deps.observer();
    if (relay.reroutes === 1) {
      observer.dropped('bus_target_gone');
      this.refuse(relay.origin, relay.peerId, 'not_found');
      return;
    }
    observer.dropped('bus_rerouted');
    this.route({ ...relay, reroutes: 1 }, typeof frame === 'string' ? frame : frame.toString('utf8')).then(
      (result) => {
        if (result !== 'delivered') this.refuse(relay.origin, relay.peerId, result);
      },
      () => this.refuse(relay.origin, relay.peerId, 'unavailable'),
    );
  }

  /** Tells the sender's instance that its relay was not delivered. */
  refuse(origin: RelayOrigin, targetPeerId: string, reason: RefusalReason): void {
    const serverId = serverOfConnection(origin.connectionId);
    if (serverId === this.deps.serverId()) {
      this.deps.sink()?.refused(origin, targetPeerId, reason);
      return;
    }
    this.deps
      .bus()
      .publish(serverId, refusedEnvelope(origin, targetPeerId, reason))
      .catch((err: unknown) => this.deps.observer().event('warn', 'could not tell a sender that its relay was not delivered', { err, targetPeerId }));
  }
}

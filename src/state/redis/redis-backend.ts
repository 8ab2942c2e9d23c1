import type { PeerLeftReason } from '../../protocol/messages.js';
import {
  NULL_OBSERVER,
  type ApiKeyRecord,
  type BackendObserver,
  type BusSink,
  type ControlMessage,
  type InstanceInfo,
  type PeerRecord,
  type RegisterOutcome,
  type RegisterRequest,
  type RegistrationRef,
  type RelayOrigin,
  type RoomCensus,
  type RoomEntry,
  type RoomRecord,
  type RouteResult,
  type StateBackend,
} from '../state-backend.js';
import { StateUnavailableError } from '../../protocol/error-codes.js';
import type { Bus } from './bus.js';
import { controlEnvelope, PROBE_ENVELOPE, presenceEnvelope } from './bus-envelope.js';
import { BusReceiver } from './bus-receiver.js';
import { CommandRunner } from './command-runner.js';
import { RedisConnection, type BusMode } from './connection.js';
import { InstanceRegistry } from './instance-registry.js';
import { KeySpace } from './key-space.js';
import { OwnedPeers } from './owned-peers.js';
import { PresenceHold } from './presence-hold.js';
import { RedisRecords } from './records.js';
import type { RedisClient } from './redis-client.js';
import type { RedisCore } from './redis-core.js';
import { DEFAULT_REDIS_OPTIONS, type RedisBackendOptions } from './redis-options.js';
import { Recovery } from './recovery.js';
import { Registration } from './registration.js';
import { RelayRouting } from './relay-routing.js';
import { CopyRefresh } from './copy-refresh.js';
import { RoomCopies } from './room-copy.js';
import { ScriptBus } from './script-bus.js';
import { RedisScripts } from './scripts.js';
import { ShardedBus } from './sharded-bus.js';

export { DEFAULT_REDIS_OPTIONS, type RedisBackendOptions };

/**
 * Shared state in Redis, composed of parts with one job each: the connections (connection.ts),
 * the bus (script-bus.ts or sharded-bus.ts, chosen once connected), registration with the
 * versioned room copy (registration.ts, room-copy.ts), relays between instances
 * (relay-routing.ts, bus-receiver.ts), outage recovery and reaping (recovery.ts,
 * instance-registry.ts, presence-hold.ts) and the other records (records.ts).
 */
export class RedisBackend implements StateBackend {
  readonly kind = 'redis' as const;
  readonly keys: KeySpace;
  readonly options: RedisBackendOptions;
  private readonly connection: RedisConnection;
  private readonly core: RedisCore;
  private readonly owned = new OwnedPeers();
  private readonly copies: RoomCopies;
  private readonly copyRefresh: CopyRefresh;
  private readonly registration: Registration;
  private readonly records: RedisRecords;
  private readonly relays: RelayRouting;
  private readonly held: PresenceHold;
  private readonly recovery: Recovery;
  private bus: Bus;
  private observer: BackendObserver = NULL_OBSERVER;
  private sink: BusSink | null = null;
  private instance: InstanceInfo | null = null;
  private registry: InstanceRegistry | null = null;
  private stopped = false;

  /** `client`: for an operator's tool, a connection it made already (see RedisConnection). */
  constructor(options: Partial<RedisBackendOptions> & { url: string }, client?: RedisClient) {
    this.options = { ...DEFAULT_REDIS_OPTIONS, ...options };
    this.keys = new KeySpace(this.options.prefix);
    this.connection = new RedisConnection(this.options, client);
    const { cmd } = this.connection;
    this.core = { cmd, keys: this.keys, scripts: new RedisScripts(cmd), runner: new CommandRunner(this.options.commandTimeoutMs * 2), options: this.options };
    this.bus = new ScriptBus(this.core);
    const serverId = () => this.serverId;
    const observer = () => this.observer;
    const stopped = () => this.stopped;
    this.copies = new RoomCopies(this.core);
    this.copyRefresh = new CopyRefresh(this.copies, observer);
    this.registration = new Registration(this.core, this.copies, this.owned, serverId, this.connection.standalone);
    this.records = new RedisRecords(this.core, (roomId, now) => this.registration.touchRoom(roomId, now));
    this.held = new PresenceHold({
      fanOut: (roomId, envelope, skip) => this.bus.fanOutPresence(roomId, envelope, skip),
      healthy: () => this.healthy(),
      stopped,
      serverId,
      observer,
    });
    this.recovery = new Recovery({
      core: this.core,
      owned: this.owned,
      registration: this.registration,
      held: this.held,
      connected: () => this.connection.ready(),
      healthy: () => this.healthy(),
      stopped,
      serverId,
      bus: () => this.bus,
      registry: () => this.registry,
      observer,
      publishPresence: (roomId, about, frame) => this.publishPresence(roomId, about, frame),
    });
    this.relays = new RelayRouting({
      core: this.core,
      bus: () => this.bus,
      receiversCounted: () => this.connection.receiversCounted,
      looksAlive: (id) => this.registry!.looksAlive(id),
      copyRoute: (roomId, peerId) => this.copies.connectionOf(roomId, peerId),
      copyBehind: (roomId) => this.copyRefresh.request(roomId),
      reapPeer: (peerId, conn, roomId) => this.recovery.reapPeer(peerId, conn, roomId),
      serverId,
      sink: () => this.sink,
      observer,
    });
  }

  async start(instance: InstanceInfo, sink: BusSink, observer: BackendObserver = NULL_OBSERVER): Promise<void> {
    this.instance = instance;
    this.sink = sink;
    this.observer = observer;
    this.core.runner.observer = observer;
    const receiver = new BusReceiver(sink, this.relays, observer);
    await this.connection.openInstance(this.keys.channel(instance.serverId), receiver.onMessage, this.recovery, observer);
    this.bus = this.busFor(this.connection.busMode);
    this.registry = new InstanceRegistry({
      core: this.core,
      instance,
      stats: () => sink.instanceStats(),
      recovery: this.recovery,
      isListening: (serverId) => this.isListening(serverId),
      observer,
    });
    await this.registry.beat();
    this.registry.start();
  }

  /** Refreshes this instance's heartbeat now (its timer does so every third of `reapAfterMs`). */
  async heartbeat(): Promise<void> {
    await this.registry?.beat();
  }

  /** Connects for tools (keys, rooms, kick) that use the store without being an instance. */
  async open(): Promise<void> {
    await this.connection.openCommands();
    this.bus = this.busFor(this.connection.busMode);
  }

  /** Closes a connection made with open(). */
  async close(): Promise<void> {
    await this.core.cmd.quit().catch(() => {});
    this.core.cmd.disconnect();
  }

  async stop(): Promise<void> {
    if (this.stopped) return;
    const reachable = this.healthy();
    this.stopped = true;
    this.registry?.stop();
    this.recovery.stop();
    this.held.stop();
    if (reachable) {
      for (const { record } of [...this.owned.peers.values()]) await this.unregister(record.peerId, record.connectionId).catch(() => {});
      await this.registry?.deregister().catch(() => {});
    }
    await this.connection.close();
  }

  healthy(): boolean {
    return !this.stopped && this.connection.ready() && !this.recovery.busy;
  }

  register(request: RegisterRequest): Promise<RegisterOutcome> {
    return this.registration.register(request);
  }

  unregister(peerId: string, connectionId: string, reason: PeerLeftReason = 'left'): Promise<PeerRecord | null> {
    return this.registration.unregister(peerId, connectionId, reason, this.healthy());
  }

  updatePeer(record: PeerRecord): Promise<boolean> {
    return this.registration.updatePeer(record);
  }

  getPeer(peerId: string): Promise<PeerRecord | null> {
    return this.registration.getPeer(peerId);
  }

  /**
   * The room's peers in discovery order. Parsed lists are kept per room with the room's version:
   * while nothing changed, a discovery costs one small script call and no parsing.
   */
  listRoom(roomId: string): Promise<readonly PeerRecord[]> {
    return this.copies.list(roomId);
  }

  /** What this instance's copies of rooms hold (for metrics and tests). */
  roomCopies(): { rooms: number; bytes: number } {
    return this.copies.size();
  }

  route(roomId: string, targetPeerId: string, frame: string, origin: RelayOrigin): Promise<RouteResult> {
    return this.relays.route({ peerId: targetPeerId, roomId, origin, reroutes: 0 }, frame);
  }

  async publishPresence(roomId: string, aboutConnectionId: string, frame: string): Promise<void> {
    const envelope = presenceEnvelope(roomId, aboutConnectionId, frame);
    // While events are held, later ones queue behind them: every instance hears a room's events in order.
    if (this.healthy() && this.held.size === 0) {
      try {
        await this.bus.fanOutPresence(roomId, envelope, '');
        return;
      } catch (err) {
        if (!(err instanceof StateUnavailableError)) throw err;
      }
    }
    // An operator's tool, not an instance: nothing to hold events for, the caller hears the failure.
    if (this.instance === null) {
      await this.bus.fanOutPresence(roomId, envelope, '');
      return;
    }
    // Outage: this instance's subscribers hear it now; the other instances after the restore.
    this.sink?.presence(roomId, aboutConnectionId, frame);
    this.held.hold(roomId, envelope);
  }

  async sendControl(serverId: string, message: ControlMessage): Promise<boolean> {
    if (serverId === this.instance?.serverId) {
      this.sink?.control(message);
      return true;
    }
    return (await this.bus.publish(serverId, controlEnvelope(message))) > 0;
  }

  removePeer(ref: RegistrationRef): Promise<PeerRecord | null> {
    return this.registration.removeShared(ref.roomId, ref.peerId, ref.connectionId);
  }

  census(): Promise<RoomCensus> {
    return this.records.census();
  }

  listRooms(): Promise<RoomEntry[]> {
    return this.records.listRooms();
  }

  createRoom(room: RoomRecord): Promise<boolean> {
    return this.records.createRoom(room);
  }

  getRoom(roomId: string): Promise<RoomRecord | null> {
    return this.records.getRoom(roomId);
  }

  deleteRoom(roomId: string): Promise<boolean> {
    return this.records.deleteRoom(roomId);
  }

  putApiKey(key: ApiKeyRecord): Promise<void> {
    return this.records.putApiKey(key);
  }

  getApiKey(id: string): Promise<ApiKeyRecord | null> {
    return this.records.getApiKey(id);
  }

  listApiKeys(): Promise<ApiKeyRecord[]> {
    return this.records.listApiKeys();
  }

  revokeApiKey(id: string, at: number): Promise<boolean> {
    return this.records.revokeApiKey(id, at);
  }

  /** The command connection, for the server's operator views (read only: ClusterReader). */
  commandClient(): RedisClient {
    return this.core.cmd;
  }

  private get serverId(): string {
    return this.instance!.serverId;
  }

  private busFor(mode: BusMode): Bus {
    return mode === 'sharded' ? new ShardedBus(this.core) : new ScriptBus(this.core);
  }

  /** Whether anyone listens on an instance's channel (a probe its instance ignores). */
  private async isListening(serverId: string): Promise<boolean> {
    if (!this.connection.receiversCounted) return false;
    return (await this.bus.publish(serverId, PROBE_ENVELOPE)) > 0;
  }
}

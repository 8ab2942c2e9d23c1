import type { Cluster, Redis } from 'ioredis';
import { StateUnavailableError } from '../../protocol/error-codes.js';
import { errorText } from '../../net/error-text.js';
import { redactUrl } from '../../net/redact-url.js';
import type { BackendObserver } from '../state-backend.js';
import { createClients, serverMajorVersion, type RedisClient } from './redis-client.js';
import { ShardSubscriber } from './shard-subscriber.js';
import type { RedisBackendOptions } from './redis-options.js';

/**
 * How deliveries travel: `script` publishes inside the routing script (one round trip; standalone
 * Redis, or a cluster older than 7 where PUBLISH is broadcast); `sharded` looks the target up, then
 * SPUBLISHes to the channel's shard (Redis Cluster 7+).
 */
export type BusMode = 'script' | 'sharded';

/** What the connections tell the instance about their health. */
export interface ConnectionEvents {
  /** A connection closed (role: command or subscriber; null when the loss was told already). */
  lost(role: string | null): void;
  /** A connection is ready (again). */
  ready(): void;
  /** The cluster subscriber subscribed again after a loss. */
  resubscribed(): void;
  /** The cluster's topology changed (a master gone, a replica promoted). */
  topologyChanged(): void;
}

/**
 * Connects a client and waits for it to be ready. Readiness is read from the client's status too,
 * not only from connect()'s promise, which ioredis's Cluster sometimes leaves pending when it is
 * ready already. Rejects after `timeoutMs` with the last connection error in the message, or at
 * once when connecting fails and `failFast` is set (a client that does not retry its first connection).
 */
export function waitReady(client: RedisClient, timeoutMs: number, failFast = false): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    let lastError: unknown = null;
    const done = (err?: Error) => {
      clearInterval(poll);
      clearTimeout(timer);
      if (err) reject(err);
      else resolve();
    };
    const poll = setInterval(() => {
      if (client.status === 'ready') done();
    }, 25);
    const timer = setTimeout(
      () => done(Object.assign(new Error(`no connection within ${timeoutMs} ms${lastError ? ` (${errorText(lastError)})` : ''}`), { cause: lastError ?? undefined })),
      timeoutMs,
    );
    client.connect().then(
      () => done(),
      (err: unknown) => {
        lastError = err;
        if (failFast) done(err instanceof Error ? err : new Error(String(err)));
      },
    );
  });
}

/**
 * The backend's connections to Redis: commands, and the subscription to this instance's channel
 * (a dedicated connection on a standalone Redis; on a cluster, a ShardSubscriber on the master of
 * the channel's slot). Knows how the bus travels once connected.
 */
export class RedisConnection {
  readonly cmd: RedisClient;
  /** Standalone Redis: the dedicated subscriber connection. */
  private readonly sub: Redis | null;
  /** Redis Cluster: the subscription on the master of this instance's channel slot. */
  private shard: ShardSubscriber | null = null;
  private mode: BusMode = 'script';
  private closed = false;

  /**
   * `client`: a command connection made (and connected) by the caller, for an operator's tool
   * that reads with it too; the instance's connections are made here.
   */
  constructor(
    private readonly options: RedisBackendOptions,
    client?: RedisClient,
  ) {
    if (client !== undefined) {
      this.cmd = client;
      this.sub = null;
      return;
    }
    const clients = createClients(options);
    this.cmd = clients.cmd;
    this.sub = clients.sub;
  }

  /** A standalone Redis (not a cluster): scripts may span slots. */
  get standalone(): boolean {
    return this.options.cluster === null;
  }

  get busMode(): BusMode {
    return this.mode;
  }

  /** Whether a publish reports its receivers: not on a cluster older than 7 (PUBLISH counts one node's). */
  get receiversCounted(): boolean {
    return this.standalone || this.mode === 'sharded';
  }

  /** Command connection and subscriber both ready. */
  ready(): boolean {
    return !this.closed && this.cmd.status === 'ready' && this.subscriberStatus === 'ready';
  }

  private get subscriberStatus(): string {
    return this.sub?.status ?? this.shard?.status ?? 'end';
  }

  /** Connects for tools (keys, rooms, kick) that use the store without being an instance. */
  async openCommands(): Promise<void> {
    this.cmd.on('error', () => {});
    try {
      if (this.cmd.status !== 'ready') await waitReady(this.cmd, this.options.connectTimeoutMs);
      if (!this.standalone) this.mode = (await serverMajorVersion(this.cmd)) >= 7 ? 'sharded' : 'script';
    } catch (err) {
      this.cmd.disconnect();
      throw this.unreachable(err);
    }
  }

  /**
   * Connects both connections and subscribes to `channel`; every message on it goes to
   * `onMessage` as it came.
   */
  async openInstance(channel: string, onMessage: (message: Buffer) => void, events: ConnectionEvents, observer: BackendObserver): Promise<void> {
    this.watch(this.cmd, 'command', events, observer);
    if (this.sub) this.watch(this.sub, 'subscriber', events, observer);
    try {
      await Promise.all([waitReady(this.cmd, this.options.connectTimeoutMs), this.sub ? waitReady(this.sub, this.options.connectTimeoutMs) : null]);
      if (this.sub) {
        await this.sub.subscribe(channel);
        this.sub.on('messageBuffer', (_channel: Buffer, message: Buffer) => onMessage(message));
        return;
      }
      const major = await serverMajorVersion(this.cmd);
      this.mode = major >= 7 ? 'sharded' : 'script';
      if (this.mode === 'script') {
        observer.event('warn', `Redis ${major} has no sharded pub/sub: using classic pub/sub, broadcast over the whole cluster`);
      }
      this.shard = new ShardSubscriber(this.cmd as Cluster, channel, this.mode === 'sharded', { connectTimeout: this.options.connectTimeoutMs }, onMessage, (event) => {
        if (event === 'lost') {
          observer.event('warn', 'Redis subscriber lost (cluster failover?); resubscribing');
          events.lost(null);
        } else {
          events.resubscribed();
        }
      });
      await this.shard.start(Date.now() + this.options.connectTimeoutMs);
    } catch (err) {
      this.cmd.disconnect();
      this.sub?.disconnect();
      await this.shard?.stop();
      throw this.unreachable(err);
    }
  }

  /** Closes everything, politely where possible. */
  async close(): Promise<void> {
    this.closed = true;
    await Promise.allSettled([this.sub?.quit(), this.shard?.stop(), this.cmd.quit()]);
    this.sub?.disconnect();
    this.cmd.disconnect();
  }

  private unreachable(err: unknown): StateUnavailableError {
    return new StateUnavailableError(`cannot reach Redis at ${redactUrl(this.options.url)}: ${errorText(err)}`, { cause: err });
  }

  private watch(client: RedisClient, role: string, events: ConnectionEvents, observer: BackendObserver): void {
    let errorsLogged = 0;
    client.on('error', (err: Error) => {
      // ioredis retries on its own; say so once per outage, not once per attempt.
      if (errorsLogged++ === 0) observer.event('warn', `Redis ${role} connection error: ${err.message}`);
    });
    client.on('close', () => {
      if (!this.closed) events.lost(role);
    });
    client.on('ready', () => {
      errorsLogged = 0;
      events.ready();
    });
    // Redis Cluster: a failover (a master gone, its replica promoted) may lose the latest writes
    // without the client ever closing; write this instance's peers back once the topology settles.
    client.on('-node', () => events.topologyChanged());
    client.on('+node', () => events.topologyChanged());
  }
}

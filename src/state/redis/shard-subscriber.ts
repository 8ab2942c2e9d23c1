import { Redis, type Cluster, type RedisOptions } from 'ioredis';

/**
 * On Redis Cluster, the instance's channel lives in one slot: this keeps one plain connection to
 * the master that serves that slot and (S)SUBSCRIBEs there. When that master goes (failover), the
 * connection ends and a new one is made to whichever master serves the slot then. Written instead
 * of ioredis's sharded subscriber group, which could stay without a subscriber for a slot.
 */
export class ShardSubscriber {
  private conn: Redis | null = null;
  private stopped = false;
  private resubscribing: NodeJS.Timeout | null = null;

  constructor(
    private readonly cluster: Cluster,
    private readonly channel: string,
    private readonly sharded: boolean,
    private readonly options: RedisOptions,
    private readonly onMessage: (message: Buffer) => void,
    /** Called after every (re)subscription but the first, and when the connection is lost. */
    private readonly onChange: (event: 'lost' | 'resubscribed') => void,
  ) {}

  get status(): string {
    return this.conn?.status ?? 'end';
  }

  /** Subscribes, retrying until `deadline` (ms since epoch). */
  async start(deadline: number): Promise<void> {
    for (;;) {
      try {
        await this.subscribeOnce();
        return;
      } catch (err) {
        if (Date.now() > deadline) throw err;
        await new Promise((r) => setTimeout(r, 200));
      }
    }
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.resubscribing) clearTimeout(this.resubscribing);
    const conn = this.conn;
    this.conn = null;
    if (conn) {
      await conn.quit().catch(() => {});
      conn.disconnect();
    }
  }

  private async subscribeOnce(): Promise<void> {
    const { host, port } = await this.masterOfChannel();
    const conn = new Redis(port, host, { ...this.options, lazyConnect: true, retryStrategy: () => null, connectionName: 'sleap-signal-sub' });
    conn.on('error', () => {});
    try {
      await conn.connect();
      if (this.sharded) await conn.ssubscribe(this.channel);
      else await conn.subscribe(this.channel);
    } catch (err) {
      conn.disconnect();
      throw err;
    }
    conn.on(this.sharded ? 'smessageBuffer' : 'messageBuffer', (_channel: Buffer, message: Buffer) => this.onMessage(message));
    conn.once('end', () => this.lost(conn));
    // A slot moved away (resharding) ends the subscription too.
    conn.on('sunsubscribe', () => conn.disconnect());
    this.conn = conn;
  }

  private lost(conn: Redis): void {
    if (this.stopped || this.conn !== conn) return;
    this.conn = null;
    this.onChange('lost');
    const retry = () => {
      this.resubscribing = null;
      if (this.stopped) return;
      this.subscribeOnce().then(
        () => this.onChange('resubscribed'),
        () => {
          this.resubscribing = setTimeout(retry, 250);
          this.resubscribing.unref();
        },
      );
    };
    this.resubscribing = setTimeout(retry, 100);
    this.resubscribing.unref();
  }

  /** The master serving the channel's slot now, from CLUSTER SLOTS. */
  private async masterOfChannel(): Promise<{ host: string; port: number }> {
    const slot = Number(await this.cluster.cluster('KEYSLOT', this.channel));
    const ranges = (await this.cluster.cluster('SLOTS')) as unknown as [number, number, [string, number, ...unknown[]]][];
    for (const [from, to, master] of ranges) {
      if (slot >= from && slot <= to) return { host: master[0] || '127.0.0.1', port: Number(master[1]) };
    }
    throw new Error(`no master serves slot ${slot}`);
  }
}

import { batchMessage } from './bus-envelope.js';

/** One publish to one channel; resolves to the receivers counted. */
export type Publish = (serverId: string, message: string) => Promise<number>;

interface Pending {
  readonly envelope: string;
  readonly resolve: (receivers: number) => void;
  readonly reject: (err: unknown) => void;
}

/**
 * Envelopes for one instance within a tick leave as one message on its channel: alone, or as a
 * batch ('b' then "<byte length>:<envelope>" each, the format route.lua publishes too).
 */
export class ChannelBatcher {
  private batches = new Map<string, Pending[]>();
  private flushQueued = false;

  constructor(private readonly publish: Publish) {}

  send(serverId: string, envelope: string): Promise<number> {
    return new Promise((resolve, reject) => {
      let batch = this.batches.get(serverId);
      if (batch === undefined) this.batches.set(serverId, (batch = []));
      batch.push({ envelope, resolve, reject });
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
    for (const [serverId, batch] of batches) {
      this.publish(serverId, batchMessage(batch.map((p) => p.envelope))).then(
        (receivers) => batch.forEach((p) => p.resolve(receivers)),
        (err: unknown) => batch.forEach((p) => p.reject(err)),
      );
    }
  };
}

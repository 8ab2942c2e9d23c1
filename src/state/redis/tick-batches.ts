interface Pending<T, R> {
  readonly item: T;
  readonly resolve: (result: R) => void;
  readonly reject: (err: unknown) => void;
}

/**
 * Items added within one tick leave together, one call per key (a room's relays in one script
 * call; an instance's envelopes in one message), each caller getting its own result.
 */
export class TickBatches<T, R> {
  private batches = new Map<string, Pending<T, R>[]>();
  private flushQueued = false;

  /** `send` answers one result per item, in order. */
  constructor(private readonly send: (key: string, items: T[]) => Promise<readonly R[]>) {}

  add(key: string, item: T): Promise<R> {
    return new Promise((resolve, reject) => {
      let batch = this.batches.get(key);
      if (batch === undefined) this.batches.set(key, (batch = []));
      batch.push({ item, resolve, reject });
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
    for (const [key, batch] of batches) {
      this.send(
        key,
        batch.map((p) => p.item),
      ).then(
        (results) => batch.forEach((p, i) => p.resolve(results[i]!)),
        (err: unknown) => batch.forEach((p) => p.reject(err)),
      );
    }
  };
}

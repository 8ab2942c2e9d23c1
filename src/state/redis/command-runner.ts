import { StateUnavailableError } from '../../protocol/error-codes.js';
import { errorText } from '../../net/error-text.js';
import { NULL_OBSERVER, type BackendObserver } from '../state-backend.js';

/**
 * Every Redis call of the backend goes through here: counted, bounded in time (a command stuck in
 * a cluster failover must not hold a connection's queue forever), and failures become
 * StateUnavailableError.
 */
export class CommandRunner {
  observer: BackendObserver = NULL_OBSERVER;

  constructor(private readonly timeoutMs: number) {}

  async run<T>(name: string, fn: () => Promise<T>): Promise<T> {
    this.observer.operation(name);
    let timer: NodeJS.Timeout | undefined;
    try {
      return await Promise.race([
        fn(),
        new Promise<never>((_, reject) => {
          timer = setTimeout(() => reject(new Error(`timed out after ${this.timeoutMs} ms`)), this.timeoutMs);
        }),
      ]);
    } catch (err) {
      // The wrapper carries the reply's text only: ioredis errors hold the command's arguments
      // (session tokens, records), which must not reach a log.
      const unavailable = err instanceof StateUnavailableError ? err : new StateUnavailableError(`Redis ${name} failed: ${errorText(err)}`);
      this.observer.failure(name, unavailable);
      throw unavailable;
    } finally {
      clearTimeout(timer);
    }
  }

  /** Runs commands in bounded parallel chunks (they pipeline on the wire; cluster-safe, unlike MULTI). */
  async batch<T>(work: (() => Promise<T>)[], chunk = 1000): Promise<T[]> {
    const out: T[] = [];
    for (let i = 0; i < work.length; i += chunk) out.push(...(await Promise.all(work.slice(i, i + chunk).map((w) => w()))));
    return out;
  }
}

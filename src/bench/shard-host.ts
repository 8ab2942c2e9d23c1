import { Worker } from 'node:worker_threads';
import type { ShardInit, TrafficWindow } from './shard/context.js';
import { Shard, type ShardResult } from './shard/shard.js';
import type { Progress, TimelineSample } from './shard/timeline.js';

/**
 * How the runner drives a shard: in its own thread (LocalShard) or in a worker thread
 * (WorkerShard), with the same calls either way.
 */
export interface ShardHandle {
  /** Resolves with the number of peers that registered. */
  ramp(startUs: number): Promise<number>;
  traffic(window: TrafficWindow): Promise<void>;
  finish(): Promise<ShardResult>;
  /** The latest progress known (worker threads report once a second). */
  progress(): Progress | null;
  abort(): Promise<void>;
}

export class LocalShard implements ShardHandle {
  private readonly shard: Shard;

  constructor(init: ShardInit) {
    this.shard = new Shard(init);
  }

  ramp(startUs: number): Promise<number> {
    return this.shard.ramp(startUs);
  }

  traffic(window: TrafficWindow): Promise<void> {
    return this.shard.traffic(window);
  }

  finish(): Promise<ShardResult> {
    return this.shard.finish();
  }

  progress(): Progress {
    return this.shard.progress();
  }

  async abort(): Promise<void> {
    this.shard.abort();
  }
}

export type WorkerCommandBody =
  | { readonly cmd: 'ramp'; readonly startUs: number }
  | { readonly cmd: 'traffic'; readonly window: TrafficWindow }
  | { readonly cmd: 'finish' };
export type WorkerCommand = WorkerCommandBody & { readonly id: number };

export type WorkerReply =
  | { readonly kind: 'reply'; readonly id: number; readonly result?: ShardResult; readonly registered?: number }
  | { readonly kind: 'error'; readonly id: number; readonly message: string }
  | { readonly kind: 'sample'; readonly sample: TimelineSample };

/** The worker thread's entry file, next to this one (only in the built package). */
export function workerEntry(): URL {
  return new URL('./worker.js', import.meta.url);
}

export function workersAvailable(): boolean {
  return import.meta.url.endsWith('.js');
}

export class WorkerShard implements ShardHandle {
  private readonly worker: Worker;
  private readonly pending = new Map<number, { resolve: (r: WorkerReply) => void; reject: (e: Error) => void }>();
  private nextId = 1;
  private latest: Progress | null = null;
  private failure: Error | null = null;

  constructor(init: ShardInit) {
    if (!workersAvailable()) throw new Error('worker threads need the built CLI (dist/); run with --threads 1 from sources');
    // A roomy young generation: fewer scavenges (each one a pause of the generator) under many small messages.
    this.worker = new Worker(workerEntry(), { workerData: init, resourceLimits: { maxYoungGenerationSizeMb: 64 } });
    this.worker.on('message', (m: WorkerReply) => {
      if (m.kind === 'sample') {
        this.latest = m.sample.progress;
        return;
      }
      const p = this.pending.get(m.id);
      if (!p) return;
      this.pending.delete(m.id);
      if (m.kind === 'error') p.reject(new Error(`generator thread: ${m.message}`));
      else p.resolve(m);
    });
    const fail = (err: Error) => {
      this.failure = err;
      for (const p of this.pending.values()) p.reject(err);
      this.pending.clear();
    };
    this.worker.on('error', (err) => fail(err instanceof Error ? err : new Error(String(err))));
    this.worker.on('exit', (code) => fail(new Error(`generator thread exited (${code})`)));
  }

  private call(command: WorkerCommandBody): Promise<WorkerReply> {
    if (this.failure) return Promise.reject(this.failure);
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.worker.postMessage({ ...command, id });
    });
  }

  async ramp(startUs: number): Promise<number> {
    const reply = await this.call({ cmd: 'ramp', startUs });
    return reply.kind === 'reply' ? (reply.registered ?? 0) : 0;
  }

  async traffic(window: TrafficWindow): Promise<void> {
    await this.call({ cmd: 'traffic', window });
  }

  async finish(): Promise<ShardResult> {
    const reply = await this.call({ cmd: 'finish' });
    await this.worker.terminate();
    if (reply.kind !== 'reply' || reply.result === undefined) throw new Error('generator thread returned no result');
    return reply.result;
  }

  progress(): Progress | null {
    return this.latest;
  }

  async abort(): Promise<void> {
    this.failure ??= new Error('aborted');
    await this.worker.terminate();
  }
}

import { parentPort, workerData } from 'node:worker_threads';
import type { ShardInit } from './shard/context.js';
import { Shard } from './shard/shard.js';
import type { WorkerCommand, WorkerReply } from './shard-host.js';

/** Entry of a generator worker thread: runs one shard on the main thread's commands. */
const port = parentPort;
if (port === null) throw new Error('worker.js runs as a worker thread');

const shard = new Shard(workerData as ShardInit);
const post = (m: WorkerReply) => port.postMessage(m);
shard.onSample = (sample) => post({ kind: 'sample', sample });

port.on('message', (command: WorkerCommand) => {
  void (async () => {
    try {
      switch (command.cmd) {
        case 'ramp':
          post({ kind: 'reply', id: command.id, registered: await shard.ramp(command.startUs) });
          break;
        case 'traffic':
          await shard.traffic(command.window);
          post({ kind: 'reply', id: command.id });
          break;
        case 'finish':
          post({ kind: 'reply', id: command.id, result: await shard.finish() });
          break;
      }
    } catch (err) {
      post({ kind: 'error', id: command.id, message: err instanceof Error ? (err.stack ?? err.message) : String(err) });
    }
  })();
});

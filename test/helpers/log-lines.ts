import { Writable } from 'node:stream';
import { pino, type Logger } from 'pino';

/** A pino logger whose output lines the test can read. */
export function capturedLogger(level = 'info'): { logger: Logger; lines: string[] } {
  const lines: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _enc, cb) {
      lines.push(...chunk.toString().split('\n').filter((l) => l.length > 0));
      cb();
    },
  });
  return { logger: pino({ level }, stream), lines };
}

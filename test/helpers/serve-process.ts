import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { createInterface } from 'node:readline';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
export const BIN = `${ROOT}bin/sleap-signal.js`;

/** A real `sleap-signal serve` process (the built CLI), with its port read from its log. */
export class ServeProcess {
  readonly lines: string[] = [];
  port = 0;
  private constructor(readonly child: ChildProcess) {}

  static async start(args: string[], env: Record<string, string> = {}): Promise<ServeProcess> {
    if (!existsSync(`${ROOT}dist/cli/main.js`)) throw new Error('dist/ is missing: run `npm run build` first');
    const child = spawn(process.execPath, [BIN, 'serve', '--host', '127.0.0.1', '--port', '0', ...args], {
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const proc = new ServeProcess(child);
    const rl = createInterface({ input: child.stdout! });
    child.stderr!.on('data', (d: Buffer) => proc.lines.push(d.toString()));
    proc.port = await new Promise<number>((resolve, reject) => {
      const fail = reject;
      reject = (err: Error) => {
        child.kill('SIGKILL'); // a serve that did not start must not outlive the test
        fail(err);
      };
      const timer = setTimeout(() => reject(new Error(`serve did not start: ${proc.lines.join('\n')}`)), 15_000);
      child.once('exit', (code) => {
        clearTimeout(timer);
        reject(new Error(`serve exited with ${code}: ${proc.lines.join('\n')}`));
      });
      rl.on('line', (line) => {
        proc.lines.push(line);
        try {
          const entry = JSON.parse(line) as { event?: string; port?: number };
          if (entry.event === 'listening' && entry.port) {
            clearTimeout(timer);
            resolve(entry.port);
          }
        } catch {
          // not a JSON line
        }
      });
    });
    return proc;
  }

  get url(): string {
    return `ws://127.0.0.1:${this.port}`;
  }

  get httpUrl(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  get exited(): Promise<number | null> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return Promise.resolve(this.child.exitCode);
    return new Promise((resolve) => this.child.once('exit', (code) => resolve(code)));
  }

  signal(sig: NodeJS.Signals): void {
    this.child.kill(sig);
  }

  async kill(): Promise<void> {
    if (this.child.exitCode === null && this.child.signalCode === null) {
      const done = this.exited;
      this.child.kill('SIGKILL');
      await done;
    }
  }
}

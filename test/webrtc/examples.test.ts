import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ROOT } from '../cli/cli-helpers.js';
import { freshRoom, startServer } from '../helpers/harness.js';
import { PYTHON, PYTHON_ENV, requireAiortc } from './aiortc.js';
import { openInChromium, requireChromium, type Chromium } from './browser.js';

/** examples/ run as documented: the Python peer with itself, and the browser page with the Python peer. */

const children: ChildProcess[] = [];
const browsers: Chromium[] = [];
afterEach(async () => {
  children.splice(0).forEach((c) => c.exitCode === null && c.signalCode === null && c.kill('SIGKILL'));
  await Promise.all(browsers.splice(0).map((b) => b.stop()));
});

interface Run {
  readonly child: ChildProcess;
  output(): string;
  /** Resolves when `text` has been printed; rejects if the process exits first or after `ms`. */
  printed(text: string, ms?: number): Promise<void>;
  readonly exited: Promise<number | null>;
}

function run(command: string, args: string[]): Run {
  const child = spawn(command, args, { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'], env: PYTHON_ENV });
  children.push(child);
  let output = '';
  const watchers = new Set<() => void>();
  const collect = (d: Buffer) => {
    output += d.toString();
    watchers.forEach((w) => w());
  };
  child.stdout!.on('data', collect);
  child.stderr!.on('data', collect);
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => (resolve(code), watchers.forEach((w) => w()))));
  return {
    child,
    exited,
    output: () => output,
    printed: (text, ms = 40_000) =>
      new Promise((resolve, reject) => {
        const timer = setTimeout(() => done(new Error(`"${text}" not printed within ${ms} ms:\n${output}`)), ms);
        const check = () => {
          if (output.includes(text)) done();
          else if (child.exitCode !== null) done(new Error(`exited (${child.exitCode}) before printing "${text}":\n${output}`));
        };
        const done = (err?: Error) => {
          clearTimeout(timer);
          watchers.delete(check);
          if (err) reject(err);
          else resolve();
        };
        watchers.add(check);
        check();
      }),
  };
}

const PEER_PY = join(ROOT, 'examples', 'python', 'peer.py');

describe.runIf(requireAiortc())('examples/python/peer.py', () => {
  it('answers another copy of itself and echoes its message over the data channel', async () => {
    const server = await startServer();
    const room = freshRoom('example');
    const answerer = run(PYTHON, [PEER_PY, '--url', server.url, '--room', room, '--peer-id', 'py-b', '--loopback']);
    await answerer.printed('registered as py-b');
    const offerer = run(PYTHON, [PEER_PY, '--url', server.url, '--room', room, '--peer-id', 'py-a', '--offer-to', 'py-b', '--loopback', '--message', 'ping-42']);
    await offerer.printed('py-b says: echo: ping-42');
    expect(await offerer.exited).toBe(0);
    expect(answerer.output()).toContain('py-a says: ping-42');
  }, 60_000);
});

describe.runIf(requireAiortc() && requireChromium())('examples/browser with examples/python/peer.py', () => {
  it('the page answers the Python peer and they greet each other over the data channel', async () => {
    const server = await startServer();
    const room = freshRoom('example');
    const pages = run(process.execPath, [join(ROOT, 'examples', 'browser', 'serve.mjs'), '0']);
    await pages.printed('open http://');
    const url = new URL(/open (\S+)/.exec(pages.output())![1]!);
    url.search = new URLSearchParams({ signal: server.url, room, peer: 'browser-ex' }).toString();
    browsers.push(openInChromium(url.toString()));
    const python = run(PYTHON, [PEER_PY, '--url', server.url, '--room', room, '--peer-id', 'py-a', '--offer-to', 'browser-ex', '--loopback', '--message', 'hi browser']);
    await python.printed('browser-ex says: hello from browser-ex');
    expect(await python.exited).toBe(0);
  }, 60_000);
});

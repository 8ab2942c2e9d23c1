import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const HERE = dirname(fileURLToPath(import.meta.url));
const ROOT = join(HERE, '..', '..');
const CLIENT_DIR = join(ROOT, 'dist', 'client');

export const CHROMIUM = ['chromium', 'chromium-browser', '/usr/bin/chromium'].find((c) => spawnSync(c, ['--version'], { stdio: 'ignore' }).status === 0) ?? null;

export function requireChromium(): boolean {
  if (CHROMIUM !== null) return true;
  if (process.env.CI) throw new Error('chromium is not installed, and CI is set: the browser WebRTC test must run (apt-get install chromium)');
  console.warn('\n!!! chromium not found: SKIPPING the browser WebRTC test (apt-get install chromium) !!!\n');
  return false;
}

/**
 * Headless Chromium that reaches for nothing on the network. WebRtcHideLocalIpsWithMdns off: host
 * candidates carry real addresses instead of random .local names, which only resolve through
 * multicast DNS (absent on a loopback-only machine). --allow-loopback-in-peer-connection adds the
 * loopback interface to the networks WebRTC gathers on, which Chromium only enumerates beyond the
 * default route once the page holds a media permission: the page asks for a fake microphone
 * (granted without a prompt) before it creates its connections.
 */
const FLAGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--disable-features=WebRtcHideLocalIpsWithMdns',
  '--allow-loopback-in-peer-connection',
  '--use-fake-ui-for-media-stream',
  '--use-fake-device-for-media-stream',
];

export interface PageResult {
  readonly ok: boolean;
  readonly error?: string;
  readonly offerToOpenMs?: number;
  readonly sentBytes?: number;
  readonly receivedBytes?: number;
  readonly sentSha?: string;
  readonly receivedSha?: string;
  /** The selected candidate pair of A's connection, then of B's (a peer-reflexive remote shows no address). */
  readonly pairs?: { local?: { type: string; address: string }; remote?: { type: string; address: string } }[];
  readonly serverIds?: string[];
  /** Every local candidate either connection gathered, as "type address". */
  readonly gathered?: string[];
}

/**
 * Serves the test page, the built client library (dist/client/*.js, as ES modules) and a /result
 * endpoint the page posts to; opens the page in headless Chromium and resolves with the result.
 */
export async function runPage(query: Record<string, string>, timeoutMs: number): Promise<PageResult> {
  if (!existsSync(join(CLIENT_DIR, 'peer-client.js'))) throw new Error('dist/client/peer-client.js is missing: run `npm run build` first');
  let deliver!: (r: PageResult) => void;
  const result = new Promise<PageResult>((resolve) => (deliver = resolve));
  const http = createServer((req, res) => {
    const path = new URL(req.url ?? '/', 'http://x').pathname;
    const module = /^\/client\/([\w-]+\.js)$/.exec(path);
    if (req.method === 'POST' && path === '/result') {
      let body = '';
      req.on('data', (d: Buffer) => (body += d.toString()));
      req.on('end', () => {
        res.end('ok');
        deliver(JSON.parse(body) as PageResult);
      });
    } else if (path === '/') {
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end(readFileSync(join(HERE, 'browser-page.html')));
    } else if (module && existsSync(join(CLIENT_DIR, module[1]!))) {
      res.writeHead(200, { 'content-type': 'text/javascript; charset=utf-8' }).end(readFileSync(join(CLIENT_DIR, module[1]!)));
    } else {
      res.writeHead(404).end();
    }
  });
  await new Promise<void>((r) => http.listen(0, '127.0.0.1', r));
  const { port } = http.address() as { port: number };
  const browser = openInChromium(`http://127.0.0.1:${port}/?${new URLSearchParams(query)}`);
  let timer: NodeJS.Timeout | undefined;
  const died = browser.exited.then((code) => {
    throw new Error(`chromium exited (${code}) before the page reported; stderr:\n${browser.stderr()}`);
  });
  died.catch(() => {}); // it also "dies" when stopped below, after the race
  try {
    return await Promise.race([
      result,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`no result from the page within ${timeoutMs} ms; chromium stderr:\n${browser.stderr()}`)), timeoutMs);
      }),
      died,
    ]);
  } finally {
    clearTimeout(timer);
    await browser.stop();
    await new Promise<void>((r) => closeServer(http, r));
  }
}

export interface Chromium {
  readonly exited: Promise<number | null>;
  stderr(): string;
  /** Kills it with its child processes and removes its profile. */
  stop(): Promise<void>;
}

/** Opens `url` in a fresh headless Chromium (its own profile and process group). */
export function openInChromium(url: string): Chromium {
  const profile = mkdtempSync(join(tmpdir(), 'sleap-chromium-'));
  const chromium = spawn(CHROMIUM!, [...FLAGS, `--user-data-dir=${profile}`, url], { stdio: ['ignore', 'ignore', 'pipe'], detached: true });
  let stderr = '';
  chromium.stderr!.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-8000)));
  const exited = new Promise<number | null>((resolve) => chromium.once('exit', (code) => resolve(code)));
  return {
    exited,
    stderr: () => stderr,
    async stop() {
      await stop(chromium);
      rmSync(profile, { recursive: true, force: true });
    },
  };
}

async function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((r) => child.once('exit', r));
  try {
    process.kill(-child.pid!, 'SIGKILL');
  } catch {
    child.kill('SIGKILL');
  }
  await exited;
}

function closeServer(server: Server, done: () => void): void {
  server.closeAllConnections();
  server.close(() => done());
}

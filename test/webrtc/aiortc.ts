import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach } from 'vitest';

const SCRIPT = join(dirname(fileURLToPath(import.meta.url)), 'aiortc_peer.py');
/** Debian's interpreter: the one python3-aiortc is installed for (a pyenv python3 on PATH may lack it). */
export const PYTHON = '/usr/bin/python3';
/** No __pycache__ left in the source tree. */
export const PYTHON_ENV: NodeJS.ProcessEnv = { ...process.env, PYTHONDONTWRITEBYTECODE: '1' };
const AIORTC = spawnSync(PYTHON, ['-c', 'import aiortc'], { stdio: 'ignore' }).status === 0;

export function requireAiortc(): boolean {
  if (AIORTC) return true;
  if (process.env.CI) throw new Error(`aiortc is not importable by ${PYTHON}, and CI is set: the WebRTC suites must run (apt-get install python3-aiortc)`);
  console.warn(`\n!!! aiortc not importable by ${PYTHON}: SKIPPING the aiortc WebRTC suites (apt-get install python3-aiortc) !!!\n`);
  return false;
}

export type PeerEvent = { event: 'registered' | 'trickled' | 'gathered' | 'open' | 'received' | 'done' | 'failed'; [field: string]: unknown };

export interface PeerOptions {
  readonly url: string;
  readonly room: string;
  readonly peerId: string;
  /** Offer to this peer; without it the peer waits for an offer. */
  readonly offerTo?: string;
  readonly trickle?: boolean;
  readonly compat?: boolean;
  readonly relayOnly?: boolean;
  readonly turnUsername?: string;
  readonly turnCredential?: string;
  readonly bytes?: number;
  /** Register, gather (allocating on the TURN server), report `gathered`, exit. */
  readonly gatherOnly?: boolean;
}

const running = new Set<ChildProcess>();
afterEach(() => {
  for (const child of running) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  running.clear();
});

/** One aiortc_peer.py process; its JSON-line events as they come. */
export class AiortcPeer {
  readonly events: PeerEvent[] = [];
  private stderr = '';
  private readonly watchers = new Set<() => void>();
  readonly exited: Promise<number | null>;

  constructor(options: PeerOptions) {
    const args = [SCRIPT, '--url', options.url, '--room', options.room, '--peer-id', options.peerId, '--timeout', '40'];
    if (options.offerTo) args.push('--offer-to', options.offerTo);
    if (options.trickle) args.push('--trickle');
    if (options.compat) args.push('--compat');
    if (options.relayOnly) args.push('--relay-only');
    if (options.turnUsername) args.push('--turn-username', options.turnUsername);
    if (options.turnCredential) args.push('--turn-credential', options.turnCredential);
    if (options.bytes !== undefined) args.push('--bytes', String(options.bytes));
    if (options.gatherOnly) args.push('--gather-only');
    const child = spawn(PYTHON, args, { stdio: ['ignore', 'pipe', 'pipe'], env: PYTHON_ENV });
    running.add(child);
    let partial = '';
    child.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
      const lines = (partial + chunk).split('\n');
      partial = lines.pop()!;
      for (const line of lines) if (line.trim()) this.events.push(JSON.parse(line) as PeerEvent);
      this.watchers.forEach((w) => w());
    });
    child.stderr!.setEncoding('utf8').on('data', (chunk: string) => (this.stderr = (this.stderr + chunk).slice(-6000)));
    this.exited = new Promise((resolve) =>
      child.once('exit', (code) => {
        resolve(code);
        this.watchers.forEach((w) => w());
      }),
    );
  }

  /** The first event named one of `names`; rejects on a `failed` event, on exit, or after `timeoutMs`. */
  next(names: readonly PeerEvent['event'][], timeoutMs = 45_000): Promise<PeerEvent> {
    return new Promise((resolve, reject) => {
      let exited = false;
      void this.exited.then(() => (exited = true));
      const check = () => {
        const found = this.events.find((e) => names.includes(e.event));
        const failed = this.events.find((e) => e.event === 'failed');
        if (found) finish(() => resolve(found));
        else if (failed) finish(() => reject(new Error(`peer failed: ${JSON.stringify(failed)}\n${this.stderr}`)));
        else if (exited) finish(() => reject(new Error(`peer exited before ${names.join('/')}; events ${JSON.stringify(this.events)}\n${this.stderr}`)));
      };
      const timer = setTimeout(() => finish(() => reject(new Error(`no ${names.join('/')} within ${timeoutMs} ms; events ${JSON.stringify(this.events)}\n${this.stderr}`))), timeoutMs);
      const finish = (settle: () => void) => {
        clearTimeout(timer);
        this.watchers.delete(check);
        settle();
      };
      this.watchers.add(check);
      void this.exited.then(check);
      check();
    });
  }

  /** Resolves with the `failed` event (for checks that the peers must not connect). */
  async failure(timeoutMs = 45_000): Promise<PeerEvent> {
    await Promise.race([this.exited, new Promise((r) => setTimeout(r, timeoutMs))]);
    const failed = this.events.find((e) => e.event === 'failed');
    if (!failed) throw new Error(`expected the peer to fail; events ${JSON.stringify(this.events)}\n${this.stderr}`);
    return failed;
  }
}

export interface Transfer {
  readonly offerer: AiortcPeer;
  readonly answerer: AiortcPeer;
  readonly registered: { offerer: PeerEvent; answerer: PeerEvent };
  readonly open: PeerEvent;
  readonly done: PeerEvent;
  readonly received: PeerEvent;
}

/**
 * An answerer on `answererUrl` and an offerer on `offererUrl` that sends it `bytes` over a data
 * channel. Resolves when both have reported.
 */
export async function transfer(
  options: { offererUrl: string; answererUrl: string; room: string } & Omit<PeerOptions, 'url' | 'room' | 'peerId' | 'offerTo'>,
): Promise<Transfer> {
  const { offererUrl, answererUrl, room, ...shared } = options;
  // Both start at once: the offerer discovers until the answerer is in the room.
  const answerer = new AiortcPeer({ ...shared, url: answererUrl, room, peerId: 'worker-b' });
  const offerer = new AiortcPeer({ ...shared, url: offererUrl, room, peerId: 'client-a', offerTo: 'worker-b' });
  const [answererRegistered, offererRegistered] = await Promise.all([answerer.next(['registered']), offerer.next(['registered'])]);
  const [open, done, received] = await Promise.all([offerer.next(['open']), offerer.next(['done']), answerer.next(['received'])]);
  expectExit(await offerer.exited, 'offerer');
  return { offerer, answerer, registered: { offerer: offererRegistered, answerer: answererRegistered }, open, done, received };
}

function expectExit(code: number | null, who: string): void {
  if (code !== 0) throw new Error(`${who} exited with ${code}`);
}

export const MiB = 1024 * 1024;

/** The bytes arrived whole, over loopback host candidates; prints the offer-to-open time. */
export function expectIntact(t: Transfer, label: string, candidateType = 'host'): void {
  const pair = t.open.pair as { local: { type: string; host: string }; remote: { type: string; host: string } };
  if (t.received.bytes !== MiB || t.done.bytes !== MiB) throw new Error(`expected ${MiB} bytes each way: ${JSON.stringify([t.done, t.received])}`);
  if (t.received.sha256 !== t.done.sha256 || t.done.acked_sha256 !== t.done.sha256) throw new Error(`bytes differ: ${JSON.stringify([t.done, t.received])}`);
  if (pair.local.type !== candidateType || pair.local.host !== '127.0.0.1' || pair.remote.host !== '127.0.0.1') {
    throw new Error(`unexpected candidate pair ${JSON.stringify(pair)}`);
  }
  console.log(`[webrtc] aiortc, ${label}: offer-to-open ${t.open.offer_to_open_ms as number} ms, 1 MiB intact, pair ${pair.local.type} ${pair.local.host} -> ${pair.remote.type} ${pair.remote.host}`);
}

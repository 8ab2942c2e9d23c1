import { randomBytes } from 'node:crypto';
import { SignalClient, type ServerMessage } from '../client/signal-client.js';
import { errorText } from '../net/error-text.js';

export interface SmokeOptions {
  /** One or two server URLs; with two, the peers land on different instances. */
  readonly urls: readonly string[];
  readonly stepTimeoutMs: number;
}

export interface SmokeStep {
  readonly name: string;
  readonly ok: boolean;
  readonly ms: number;
  readonly error?: string;
}

export interface SmokeResult {
  readonly ok: boolean;
  readonly urls: readonly string[];
  readonly roomId: string;
  readonly steps: SmokeStep[];
  readonly totalMs: number;
}

class StepFailure extends Error {}

/** http(s) URL of the same server, for /health. */
export function healthUrl(wsUrl: string): string {
  const u = new URL(wsUrl);
  u.protocol = u.protocol === 'wss:' ? 'https:' : 'http:';
  u.pathname = '/health';
  u.search = '';
  return u.toString();
}

/**
 * The post-deploy check: health, two peers register in a fresh room, discover each other,
 * exchange a peer_message and an offer/answer, then leave. Every step has a timeout; the run
 * stops at the first failure.
 */
export async function runSmoke(options: SmokeOptions, onStep: (step: SmokeStep) => void = () => {}): Promise<SmokeResult> {
  const started = performance.now();
  const urlA = options.urls[0]!;
  const urlB = options.urls[1] ?? urlA;
  const nonce = randomBytes(6).toString('hex');
  const roomId = `smoke-${nonce}`;
  const idA = `smoke-a-${nonce}`;
  const idB = `smoke-b-${nonce}`;
  const steps: SmokeStep[] = [];
  const clients: SignalClient[] = [];
  const timeout = options.stepTimeoutMs;

  const step = async <T>(name: string, body: () => Promise<T>): Promise<T> => {
    const t0 = performance.now();
    try {
      const value = await withTimeout(body(), timeout, name);
      const s = { name, ok: true, ms: performance.now() - t0 };
      steps.push(s);
      onStep(s);
      return value;
    } catch (err) {
      const s = { name, ok: false, ms: performance.now() - t0, error: errorText(err) };
      steps.push(s);
      onStep(s);
      throw new StepFailure(s.error);
    }
  };
  const expect = (reply: ServerMessage, type: string | string[]): ServerMessage => {
    const types = Array.isArray(type) ? type : [type];
    if (types.includes(reply.type)) return reply;
    if (reply.type === 'error') throw new Error(`server error ${String(reply.code)}: ${String(reply.message ?? reply.reason)}`);
    throw new Error(`expected ${types.join(' or ')}, got ${reply.type}`);
  };

  try {
    for (const url of new Set([urlA, urlB])) {
      await step(`health ${healthUrl(url)}`, async () => {
        const res = await fetch(healthUrl(url), { signal: AbortSignal.timeout(timeout) });
        const body = await res.text();
        if (res.status !== 200) throw new Error(`HTTP ${res.status}: ${body.slice(0, 200)}`);
      });
    }
    const a = await step(`connect A to ${urlA}`, () => SignalClient.connect(urlA, { timeoutMs: timeout }));
    clients.push(a);
    const b = await step(`connect B to ${urlB}`, () => SignalClient.connect(urlB, { timeoutMs: timeout }));
    clients.push(b);
    const registered = ['registered', 'registered_auth'];
    for (const [name, self, id] of [['A', a, idA], ['B', b, idB]] as const) {
      await step(`register ${name}`, async () => {
        self.send({ type: 'register', room_id: roomId, peer_id: id, role: 'smoke', metadata: { tags: ['smoke'] } });
        expect(await self.next((m) => registered.includes(m.type) || m.type === 'error', timeout), registered);
      });
    }
    for (const [name, self, other] of [['A', a, idB], ['B', b, idA]] as const) {
      await step(`discover from ${name}`, async () => {
        const list = expect(await self.request({ type: 'discover_peers', filters: { role: 'smoke' } }, 'peer_list', timeout), 'peer_list');
        const ids = (list.peers as { peer_id: string }[]).map((p) => p.peer_id);
        if (!ids.includes(other)) throw new Error(`peer ${other} not in discovery result [${ids.join(', ')}]`);
      });
    }
    await step('peer_message A → B', async () => {
      a.send({ type: 'peer_message', to_peer_id: idB, payload: { nonce } });
      const got = await b.next((m) => m.type === 'peer_message' || m.type === 'error', timeout);
      expect(got, 'peer_message');
      if (got.from_peer_id !== idA || (got.payload as { nonce?: string })?.nonce !== nonce) throw new Error('peer_message arrived altered');
      failOnError(a);
    });
    await step('offer A → B', async () => {
      a.send({ type: 'offer', target: idB, sdp: `v=0 smoke ${nonce}` });
      const got = expect(await b.next((m) => m.type === 'offer' || m.type === 'error', timeout), 'offer');
      if (got.sender !== idA) throw new Error(`offer sender is ${String(got.sender)}, expected ${idA}`);
      failOnError(a);
    });
    await step('answer B → A', async () => {
      b.send({ type: 'answer', target: idA, sdp: `v=0 smoke answer ${nonce}` });
      const got = expect(await a.next((m) => m.type === 'answer' || m.type === 'error', timeout), 'answer');
      if (got.sender !== idB) throw new Error(`answer sender is ${String(got.sender)}, expected ${idB}`);
      failOnError(b);
    });
    for (const [name, self] of [['A', a], ['B', b]] as const) {
      await step(`leave ${name}`, async () => expect(await self.request({ type: 'leave' }, 'left', timeout), 'left'));
    }
  } catch (err) {
    if (!(err instanceof StepFailure)) throw err;
  } finally {
    await Promise.all(clients.map((c) => withTimeout(c.close(), 1000, 'close').catch(() => c.terminate())));
  }
  return { ok: steps.every((s) => s.ok), urls: [...new Set([urlA, urlB])], roomId, steps, totalMs: performance.now() - started };
}

/** A relay that failed shows up as an error reply to the sender. */
function failOnError(client: SignalClient): void {
  const errors = client.drain().filter((m) => m.type === 'error');
  if (errors.length > 0) throw new Error(`server error ${String(errors[0]!.code)}: ${String(errors[0]!.message)}`);
}

function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout;
  return Promise.race([
    promise,
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`${what}: timed out after ${ms} ms`)), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}

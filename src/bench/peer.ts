import WebSocket from 'ws';
import { TickCork } from '../net/tick-cork.js';
import { nowUs } from './clock.js';
import { connectErrorClass } from './connect-errors.js';
import { isRegisteredFrame, peerListOf, sessionTokenOf } from './registered-frame.js';
import type { RelayStreams } from './relay-streams.js';
import { ReplyQueue } from './reply-queue.js';

/**
 * A lean protocol client for the bench: one WebSocket, no queues of parsed messages, no promise
 * per message. Replies are matched in order per type (the server answers each connection's
 * frames strictly in order), relays and answers go straight to the sink.
 */

export type PeerState = 'idle' | 'connecting' | 'open' | 'registered' | 'closed';

export interface PeerSink {
  /** A relayed message arrived: `from` (sender index) sent it as number `seq` at `sentUs`. */
  relay(peer: BenchPeer, from: number, seq: number, sentUs: number, atUs: number): void;
  /** The answer to one of this peer's offers, sent (scheduled) at `sentUs`. */
  answer(peer: BenchPeer, sentUs: number, atUs: number): void;
  /** The reply to a discover / update_metadata request that was scheduled at `sentUs`. */
  reply(peer: BenchPeer, op: 'discover' | 'update_metadata', sentUs: number, atUs: number, ok: boolean): void;
  /** An error frame came (`reply`: the frame, whose request_type and message say which relay it refused). */
  error(peer: BenchPeer, cls: string, reply?: Readonly<Record<string, unknown>>): void;
  /** The socket closed; `expected` when this side closed it. */
  closed(peer: BenchPeer, code: number, expected: boolean): void;
  presence(peer: BenchPeer): void;
  /** The peer ids a watching discover (watchDiscover) listed. */
  listed(peer: BenchPeer, peerIds: readonly string[], atUs: number): void;
}

export type StepOutcome = { ok: true; us: number } | { ok: false; cls: string; us: number };

/** A register's outcome; `peerList` is the reply's peer_list when the register asked to read it. */
export type RegisterOutcome = { ok: true; us: number; peerList: readonly string[] | null } | { ok: false; cls: string; us: number };

/** How a peer comes back after a lost connection: the session token it proves its id with, and whether to read the reply's peer list. */
export interface Rejoin {
  readonly sessionToken: string | null;
  readonly readList: boolean;
}

interface PendingRegister {
  resolve: (outcome: RegisterOutcome) => void;
  startedUs: number;
  timer: NodeJS.Timeout;
  readList: boolean;
}

/** The scheduled time a watching discover waits with: its reply goes to `listed`, not to the timed replies. */
const WATCHING = -1;
const WATCH_FRAME = '{"type":"discover_peers"}';

/** The requests whose replies the peer times, by the request's message type. */
const REPLIED_OPS: ReadonlyMap<unknown, 'discover' | 'update_metadata'> = new Map([
  ['discover_peers', 'discover'],
  ['update_metadata', 'update_metadata'],
]);

const PING = Buffer.from('{"type":"ping"}');

export class BenchPeer {
  ws: WebSocket | null = null;
  /** Set once upgraded: frames a peer sends within one tick (closed model: one per arrival) leave in one write. */
  private cork: TickCork | null = null;
  state: PeerState = 'idle';
  /** Away on purpose (churn), or not yet back: not a target, sends nothing. */
  away = false;
  private closing = false;
  private pendingRegister: PendingRegister | null = null;
  private pendingLeave: (() => void) | null = null;
  private readonly discoverReplies = new ReplyQueue();
  private readonly updateReplies = new ReplyQueue();
  /** Offers sent and answers received (their difference: unanswered offers). */
  offers = 0;
  answers = 0;
  /** Next sequence number per target (global peer index). */
  readonly seqOut = new Map<number, number>();
  readonly streams: RelayStreams = new Map();
  /** Round-robin position over this peer's targets. */
  cursor = 0;
  updates = 0;
  /** Connections opened so far: the number of the current one. */
  connections = 0;
  /** From the last `registered`: proves this peer's id when it comes back. */
  sessionToken: string | null = null;

  constructor(
    readonly index: number,
    readonly peerId: string,
    private readonly sink: PeerSink,
  ) {}

  get online(): boolean {
    return this.state === 'registered' && !this.away;
  }

  /** Opens the WebSocket (TCP + upgrade); the outcome carries the time it took or the error class. */
  connect(url: string, timeoutMs: number, localAddress?: string): Promise<StepOutcome> {
    this.state = 'connecting';
    this.closing = false;
    this.connections++;
    const started = nowUs();
    return new Promise((resolve) => {
      let done = false;
      const finish = (outcome: StepOutcome) => {
        if (done) return;
        done = true;
        clearTimeout(guard);
        resolve(outcome);
      };
      const fail = (cls: string) => {
        this.state = 'closed';
        ws.removeAllListeners();
        ws.on('error', () => {});
        ws.terminate();
        finish({ ok: false, cls, us: nowUs() - started });
      };
      const ws = new WebSocket(url, {
        handshakeTimeout: timeoutMs,
        perMessageDeflate: false,
        skipUTF8Validation: true,
        ...(localAddress ? { localAddress } : {}),
      });
      this.ws = ws;
      this.cork = null;
      ws.once('upgrade', (res) => (this.cork = new TickCork(res.socket)));
      // A backstop for a handshake timeout that never fires (a socket stuck before connecting).
      const guard = setTimeout(() => fail('connect.timeout'), timeoutMs + 1000);
      ws.once('open', () => {
        if (done) return;
        ws.removeAllListeners('error');
        ws.removeAllListeners('unexpected-response');
        ws.removeAllListeners('close');
        ws.on('error', () => {});
        ws.on('message', (data: Buffer) => this.onMessage(data));
        ws.on('close', (code: number) => this.onClose(code));
        this.state = 'open';
        finish({ ok: true, us: nowUs() - started });
      });
      ws.once('unexpected-response', (req, res) => {
        req.destroy();
        fail(`connect.http_${res.statusCode ?? 'unknown'}`);
      });
      ws.once('error', (err) => fail(connectErrorClass(err)));
      ws.once('close', (code: number) => fail(`close.${code}`));
    });
  }

  /** Sends register and waits for `registered` (or an error, a close, the timeout). */
  register(roomId: string, role: string, metadata: Record<string, unknown>, presence: boolean, timeoutMs: number, rejoin?: Rejoin): Promise<RegisterOutcome> {
    const started = nowUs();
    return new Promise((resolve) => {
      if (this.ws === null || this.state !== 'open') {
        resolve({ ok: false, cls: 'register.not_connected', us: 0 });
        return;
      }
      const timer = setTimeout(() => {
        this.pendingRegister = null;
        resolve({ ok: false, cls: 'timeout.register', us: nowUs() - started });
      }, timeoutMs);
      this.pendingRegister = { resolve, startedUs: started, timer, readList: rejoin?.readList ?? false };
      const token = rejoin?.sessionToken ?? undefined;
      this.send(JSON.stringify({ type: 'register', peer_id: this.peerId, room_id: roomId, role, metadata, presence, session_token: token }));
    });
  }

  /** `leave` and wait for `left` (churn in leave mode). */
  leave(timeoutMs: number): Promise<boolean> {
    return new Promise((resolve) => {
      if (this.state !== 'registered') return resolve(false);
      const timer = setTimeout(() => {
        this.pendingLeave = null;
        resolve(false);
      }, timeoutMs);
      this.pendingLeave = () => {
        clearTimeout(timer);
        this.pendingLeave = null;
        this.state = 'open';
        resolve(true);
      };
      this.send('{"type":"leave"}');
    });
  }

  send(frame: string): boolean {
    const ws = this.ws;
    if (ws === null || ws.readyState !== WebSocket.OPEN) return false;
    this.cork?.hold();
    ws.send(frame);
    return true;
  }

  /** Sends a discover_peers whose reply will be timed from `scheduledUs`. */
  discover(frame: string, scheduledUs: number): boolean {
    if (!this.send(frame)) return false;
    this.discoverReplies.push(scheduledUs);
    return true;
  }

  /** Sends an unfiltered discover_peers whose reply goes to the sink's `listed`. */
  watchDiscover(): boolean {
    return this.discover(WATCH_FRAME, WATCHING);
  }

  updateMetadata(frame: string, scheduledUs: number): boolean {
    if (!this.send(frame)) return false;
    this.updateReplies.push(scheduledUs);
    return true;
  }

  /** Requests sent and not answered yet. */
  get outstanding(): number {
    return this.discoverReplies.length + this.updateReplies.length + (this.offers - this.answers);
  }

  /** Forgets unanswered requests (after a close their replies cannot come); returns how many of each. */
  dropOutstanding(): { discover: number; update_metadata: number; offer_answer: number } {
    const dropped = {
      discover: this.discoverReplies.clear(),
      update_metadata: this.updateReplies.clear(),
      offer_answer: this.offers - this.answers,
    };
    this.answers = this.offers;
    return dropped;
  }

  /** Closes on purpose; resolves when closed (or cut after `timeoutMs`). */
  close(timeoutMs = 2000): Promise<void> {
    const ws = this.ws;
    if (ws === null || ws.readyState === WebSocket.CLOSED) {
      this.state = 'closed';
      return Promise.resolve();
    }
    this.closing = true;
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        ws.terminate();
        resolve();
      }, timeoutMs);
      ws.once('close', () => {
        clearTimeout(timer);
        resolve();
      });
      if (ws.readyState === WebSocket.CONNECTING) ws.terminate();
      else ws.close(1000);
    });
  }

  private onClose(code: number): void {
    this.state = 'closed';
    const expected = this.closing;
    this.closing = false;
    if (this.pendingRegister) {
      const p = this.pendingRegister;
      this.pendingRegister = null;
      clearTimeout(p.timer);
      p.resolve({ ok: false, cls: `close.${code}`, us: nowUs() - p.startedUs });
    }
    this.pendingLeave?.();
    this.sink.closed(this, code, expected);
  }

  private onRegistered(at: number, data: Buffer): void {
    const p = this.pendingRegister;
    if (p) {
      this.pendingRegister = null;
      clearTimeout(p.timer);
      this.state = 'registered';
      this.sessionToken = sessionTokenOf(data);
      p.resolve({ ok: true, us: at - p.startedUs, peerList: p.readList ? peerListOf(data) : null });
    }
  }

  private onMessage(data: Buffer): void {
    // The server's heartbeat pings every registered peer at once: skip them without parsing.
    if (data.length === PING.length && data.equals(PING)) return;
    const at = nowUs();
    if (isRegisteredFrame(data)) {
      this.onRegistered(at, data);
      return;
    }
    let msg: Record<string, unknown>;
    try {
      msg = JSON.parse(data.toString('utf8')) as Record<string, unknown>;
    } catch {
      this.sink.error(this, 'bench.bad_frame');
      return;
    }
    switch (msg.type) {
      case 'peer_message': {
        const p = msg.payload as { s?: unknown; q?: unknown; t?: unknown } | null;
        if (p && typeof p.s === 'number' && typeof p.q === 'number' && typeof p.t === 'number') this.sink.relay(this, p.s, p.q, p.t, at);
        else this.sink.error(this, 'bench.foreign_message');
        return;
      }
      case 'offer': {
        const t = msg.bench_t;
        if (typeof t === 'number' && typeof msg.sender === 'string') {
          this.send(`{"type":"answer","target":${JSON.stringify(msg.sender)},"sdp":"v=0 bench-answer","bench_t":${t}}`);
        }
        return;
      }
      case 'answer': {
        const t = msg.bench_t;
        // An answer to an offer already given up on (the peer churned) is not counted again.
        if (typeof t === 'number' && this.answers < this.offers) {
          this.answers++;
          this.sink.answer(this, t, at);
        }
        return;
      }
      case 'peer_list':
        this.popReply('discover', at, true, msg);
        return;
      case 'metadata_updated':
        this.popReply('update_metadata', at, true);
        return;
      case 'registered':
      case 'registered_auth':
        this.onRegistered(at, data);
        return;
      case 'left':
        this.pendingLeave?.();
        return;
      case 'error':
        this.onError(msg, at);
        return;
      case 'peer_joined':
      case 'peer_updated':
      case 'peer_left':
        this.sink.presence(this);
        return;
      default:
        return;
    }
  }

  private onError(msg: Record<string, unknown>, at: number): void {
    const code = typeof msg.code === 'string' ? msg.code : 'UNKNOWN';
    const cls = `protocol.${code}`;
    switch (msg.request_type) {
      case 'register': {
        const p = this.pendingRegister;
        if (p) {
          this.pendingRegister = null;
          clearTimeout(p.timer);
          p.resolve({ ok: false, cls, us: at - p.startedUs });
          return;
        }
        break;
      }
      case 'offer':
        if (this.answers < this.offers) this.answers++;
        break;
      default: {
        const op = REPLIED_OPS.get(msg.request_type);
        if (op !== undefined) this.popReply(op, at, false);
        break;
      }
    }
    this.sink.error(this, cls, msg);
  }

  private popReply(op: 'discover' | 'update_metadata', at: number, ok: boolean, msg?: Record<string, unknown>): void {
    const scheduled = (op === 'discover' ? this.discoverReplies : this.updateReplies).shift();
    if (scheduled === WATCHING) {
      if (ok && Array.isArray(msg?.peers)) this.sink.listed(this, (msg.peers as { peer_id?: unknown }[]).map((p) => String(p?.peer_id)), at);
    } else if (scheduled !== undefined) {
      this.sink.reply(this, op, scheduled, at, ok);
    }
  }
}

/**
 * sleap-signal client for browsers and Node: register, discover, presence, relays, and reconnection
 * with the session token and backoff. No Node imports: in a browser it uses globalThis.WebSocket,
 * in Node pass the `ws` package's WebSocket as `WebSocket`.
 *
 *   import { PeerClient } from 'sleap-signal/client';
 *   const client = new PeerClient({ url: 'ws://127.0.0.1:8080', register: { room_id: 'lab-7', role: 'client' } });
 *   const registered = await client.connect();
 *   if (!registered.ok) throw new Error(registered.error.message);
 *   client.on('answer', (m) => pc.setRemoteDescription({ type: 'answer', sdp: String(m.sdp) }));
 */
import { backoffDelay, DEFAULT_BACKOFF, FINAL_CLOSE_CODES, FINAL_REGISTER_ERRORS, type BackoffPolicy } from './backoff.js';
import type {
  AdminConflictMessage,
  ClientMessage,
  DiscoverFilters,
  ErrorCode,
  ErrorMessage,
  IceCandidateMessage,
  JsonObject,
  JsonValue,
  LeftMessage,
  MeshAnswerMessage,
  MeshOfferMessage,
  MetadataUpdatedMessage,
  PeerLeftMessage,
  PeerListMessage,
  PeerMessageReceived,
  PeerSummary,
  PresenceMessage,
  RegisteredMessage,
  RegisterMessage,
  RelayedMessage,
} from './server-messages.js';

export { backoffDelay, DEFAULT_BACKOFF, type BackoffPolicy };
export type * from './server-messages.js';

/** The part of a WebSocket this client uses; browsers' WebSocket and the `ws` package both fit. */
export interface SocketLike {
  readonly readyState: number;
  send(data: string): void;
  close(code?: number, reason?: string): void;
  addEventListener(type: 'open' | 'message' | 'close' | 'error', listener: (event: SocketEvent) => void): void;
}
export interface SocketEvent {
  readonly type: string;
  readonly data?: unknown;
  readonly code?: number;
  readonly reason?: string;
}
export type SocketConstructor = new (url: string) => SocketLike;

const OPEN = 1;

export type ClientErrorCode = ErrorCode | 'TIMEOUT' | 'CLOSED' | 'CONNECT_FAILED' | 'NOT_CONNECTED';
export interface ClientError {
  readonly code: ClientErrorCode;
  readonly message: string;
}
export type Result<T> = { readonly ok: true; readonly value: T } | { readonly ok: false; readonly error: ClientError };

export interface PeerClientOptions {
  /** ws:// or wss:// URL of the server. */
  readonly url: string;
  /** What to register with; the peer id and session token of the last registration are added on reconnection. */
  readonly register: Omit<RegisterMessage, 'type'>;
  /** Defaults to globalThis.WebSocket (browsers, Node 22+). */
  readonly WebSocket?: SocketConstructor;
  /** false: no reconnection. */
  readonly reconnect?: Partial<BackoffPolicy> | false;
  /** Wait for a reply (and for the socket to open) at most this long. Default 10 s. */
  readonly timeoutMs?: number;
}

export interface PeerClientEvents {
  /** Every successful registration: the first, and each one after a reconnection. */
  registered: { readonly message: RegisteredMessage; readonly reconnected: boolean };
  offer: RelayedMessage<'offer'>;
  answer: RelayedMessage<'answer'>;
  candidate: RelayedMessage<'candidate'>;
  /** Compat mode: another peer turned an offer down. */
  relayed_error: RelayedMessage<'error'>;
  peer_message: PeerMessageReceived;
  mesh_offer: MeshOfferMessage;
  mesh_answer: MeshAnswerMessage;
  ice_candidate: IceCandidateMessage;
  peer_joined: PresenceMessage;
  peer_updated: PresenceMessage;
  peer_left: PeerLeftMessage;
  admin_conflict: AdminConflictMessage;
  /** A server error that answers no pending request: a relay that could not be delivered, RATE_LIMITED. */
  error: ErrorMessage;
  disconnected: { readonly code: number; readonly reason: string; readonly willReconnect: boolean };
  reconnecting: { readonly attempt: number; readonly delayMs: number };
}
type EventName = keyof PeerClientEvents;
type Handler<K extends EventName> = (event: PeerClientEvents[K]) => void;

export type ClientStatus = 'idle' | 'connecting' | 'registered' | 'reconnecting' | 'closed';

interface Pending {
  readonly requestType: string;
  readonly replyTypes: readonly string[];
  readonly settle: (result: Result<Record<string, unknown>>) => void;
}

export class PeerClient {
  private socket: SocketLike | null = null;
  private pending: Pending[] = [];
  private readonly handlers = new Map<EventName, Set<(event: never) => void>>();
  private readonly Socket: SocketConstructor;
  private readonly backoff: BackoffPolicy | null;
  private readonly timeoutMs: number;
  private last: RegisteredMessage | null = null;
  private reconnectTimer: ReturnType<typeof setTimeout> | null = null;
  private state: ClientStatus = 'idle';

  constructor(private readonly options: PeerClientOptions) {
    const Socket = options.WebSocket ?? (globalThis as { WebSocket?: SocketConstructor }).WebSocket;
    if (Socket === undefined) throw new TypeError('no WebSocket here: pass options.WebSocket (in Node, the `ws` package)');
    this.Socket = Socket;
    this.backoff = options.reconnect === false ? null : { ...DEFAULT_BACKOFF, ...options.reconnect };
    this.timeoutMs = options.timeoutMs ?? 10_000;
  }

  get status(): ClientStatus {
    return this.state;
  }

  /** The last `registered` reply (peer id, session token, ICE servers), or null. */
  get registration(): RegisteredMessage | null {
    return this.last;
  }

  get peerId(): string | null {
    return this.last?.peer_id ?? null;
  }

  /** Opens the socket and registers. A failure closes the socket; call again to retry. */
  async connect(): Promise<Result<RegisteredMessage>> {
    if (this.state !== 'idle' && this.state !== 'closed') return fail('NOT_CONNECTED', `connect() while ${this.state}`);
    this.state = 'connecting';
    const result = await this.openAndRegister(this.options.register);
    if (this.state !== 'connecting') {
      // close() was called meanwhile.
      this.socket?.close(1000, 'client closing');
      this.socket = null;
      return fail('CLOSED', 'the client was closed');
    }
    this.state = result.ok ? 'registered' : 'closed';
    if (result.ok) this.emit('registered', { message: result.value, reconnected: false });
    return result;
  }

  /** Subscribes to an event; returns the function that unsubscribes. */
  on<K extends EventName>(name: K, handler: Handler<K>): () => void {
    let set = this.handlers.get(name);
    if (!set) this.handlers.set(name, (set = new Set()));
    set.add(handler as (event: never) => void);
    return () => set!.delete(handler as (event: never) => void);
  }

  /** The other peers of the room, optionally filtered (see docs/protocol.md, "Discovery filters"). */
  async discover(filters?: DiscoverFilters): Promise<Result<PeerSummary[]>> {
    const reply = await this.request({ type: 'discover_peers', ...(filters && { filters }) }, ['peer_list']);
    return reply.ok ? { ok: true, value: (reply.value as unknown as PeerListMessage).peers } : reply;
  }

  /** Merges into this peer's metadata; resolves with the merged result. */
  async updateMetadata(metadata: JsonObject): Promise<Result<JsonObject>> {
    const reply = await this.request({ type: 'update_metadata', metadata }, ['metadata_updated']);
    return reply.ok ? { ok: true, value: (reply.value as unknown as MetadataUpdatedMessage).metadata } : reply;
  }

  /** Leaves the room; the socket stays open. */
  async leave(): Promise<Result<LeftMessage>> {
    const reply = await this.request({ type: 'leave' }, ['left']);
    if (reply.ok) this.last = null; // nothing to come back to
    return reply.ok ? { ok: true, value: reply.value as unknown as LeftMessage } : reply;
  }

  /** Round trip to the server, in ms. */
  async ping(): Promise<Result<number>> {
    const started = Date.now();
    const reply = await this.request({ type: 'ping' }, ['pong']);
    return reply.ok ? { ok: true, value: Date.now() - started } : reply;
  }

  /** offer / answer / candidate to `target`; the other fields (sdp, candidate, ...) travel untouched. */
  relay(type: 'offer' | 'answer' | 'candidate', target: string, fields: { [field: string]: JsonValue }): Result<void> {
    return this.send({ ...fields, type, target } as ClientMessage);
  }

  /** An application message to another peer of the room. */
  sendToPeer(peerId: string, payload: JsonValue): Result<void> {
    return this.send({ type: 'peer_message', to_peer_id: peerId, payload });
  }

  /**
   * Sends any client message without waiting. Failures of relays come back later as `error`
   * events (with `request_type`), since a delivered relay has no reply.
   */
  send(message: ClientMessage): Result<void> {
    if (this.state !== 'registered' || this.socket?.readyState !== OPEN) return fail('NOT_CONNECTED', `not connected (${this.state})`);
    this.socket.send(JSON.stringify(message));
    return { ok: true, value: undefined };
  }

  /** Closes for good: no reconnection; pending requests end with CLOSED. */
  close(): void {
    this.state = 'closed';
    if (this.reconnectTimer !== null) clearTimeout(this.reconnectTimer);
    this.reconnectTimer = null;
    const socket = this.socket;
    this.socket = null;
    socket?.close(1000, 'client closing');
    this.failPending('CLOSED', 'the client was closed');
  }

  private async request(message: ClientMessage, replyTypes: readonly string[]): Promise<Result<Record<string, unknown>>> {
    const socket = this.socket;
    if (this.state !== 'registered' || socket?.readyState !== OPEN) return fail('NOT_CONNECTED', `not connected (${this.state})`);
    const reply = this.awaitReply(message.type, replyTypes);
    socket.send(JSON.stringify(message));
    return reply;
  }

  private awaitReply(requestType: string, replyTypes: readonly string[]): Promise<Result<Record<string, unknown>>> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => settle(fail('TIMEOUT', `no ${replyTypes.join(' or ')} within ${this.timeoutMs} ms`)), this.timeoutMs);
      const entry: Pending = { requestType, replyTypes, settle: (r) => settle(r) };
      const settle = (result: Result<Record<string, unknown>>) => {
        clearTimeout(timer);
        this.pending = this.pending.filter((p) => p !== entry);
        resolve(result);
      };
      this.pending.push(entry);
    });
  }

  private failPending(code: ClientErrorCode, message: string): void {
    for (const p of [...this.pending]) p.settle(fail(code, message));
  }

  /** One attempt: open a socket, register on it, keep it on success. */
  private async openAndRegister(register: Omit<RegisterMessage, 'type'>): Promise<Result<RegisteredMessage>> {
    const opened = await this.open();
    if (!opened.ok) return opened;
    const socket = opened.value;
    this.socket = socket;
    const reply = this.awaitReply('register', ['registered', 'registered_auth']);
    socket.send(JSON.stringify({ ...register, type: 'register' }));
    const result = await reply;
    if (!result.ok) {
      if (this.socket === socket) this.socket = null;
      socket.close(1000, 'registration failed');
      return result;
    }
    this.last = result.value as unknown as RegisteredMessage;
    return { ok: true, value: this.last };
  }

  private open(): Promise<Result<SocketLike>> {
    return new Promise((resolve) => {
      let settled = false;
      let socket: SocketLike;
      const settle = (result: Result<SocketLike>) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        resolve(result);
      };
      const timer = setTimeout(() => {
        settle(fail('CONNECT_FAILED', `no connection to ${this.options.url} within ${this.timeoutMs} ms`));
        socket?.close();
      }, this.timeoutMs);
      try {
        socket = new this.Socket(this.options.url);
      } catch (err) {
        settle(fail('CONNECT_FAILED', `cannot connect to ${this.options.url}: ${String(err)}`));
        return;
      }
      socket.addEventListener('open', () => settle({ ok: true, value: socket }));
      socket.addEventListener('error', () => settle(fail('CONNECT_FAILED', `cannot connect to ${this.options.url}`)));
      socket.addEventListener('message', (e) => {
        if (this.socket === socket) this.onMessage(e.data);
      });
      socket.addEventListener('close', (e) => {
        settle(fail('CONNECT_FAILED', `connection to ${this.options.url} closed (${e.code ?? 1006})`));
        if (this.socket === socket) this.onClose(e.code ?? 1006, e.reason ?? '');
      });
    });
  }

  private onMessage(data: unknown): void {
    if (typeof data !== 'string') return;
    let message: Record<string, unknown>;
    try {
      message = JSON.parse(data) as Record<string, unknown>;
    } catch {
      return;
    }
    const type = message.type;
    if (typeof type !== 'string') return;
    const isServerError = type === 'error' && typeof message.code === 'string' && message.sender === undefined;
    const waiting = this.pending.find((p) =>
      isServerError ? p.requestType === message.request_type : p.replyTypes.includes(type),
    );
    if (waiting) {
      if (isServerError) waiting.settle(fail(message.code as ErrorCode, String(message.message)));
      else waiting.settle({ ok: true, value: message });
      return;
    }
    const name: string = type === 'error' ? (isServerError ? 'error' : 'relayed_error') : type;
    if (this.handlers.has(name as EventName)) this.emit(name as EventName, message as never);
  }

  private onClose(code: number, reason: string): void {
    this.socket = null;
    this.failPending('CLOSED', `connection closed (${code})`);
    // While connecting or reconnecting, the attempt under way sees the failure and decides.
    if (this.state !== 'registered') return;
    const willReconnect = this.backoff !== null && this.last !== null && !FINAL_CLOSE_CODES.has(code);
    this.state = willReconnect ? 'reconnecting' : 'closed';
    this.emit('disconnected', { code, reason, willReconnect });
    if (willReconnect) this.scheduleReconnect(0);
  }

  private scheduleReconnect(attempt: number): void {
    const policy = this.backoff!;
    if (attempt >= policy.maxAttempts) {
      this.state = 'closed';
      this.emit('disconnected', { code: 1006, reason: `gave up after ${attempt} attempts`, willReconnect: false });
      return;
    }
    const delayMs = backoffDelay(policy, attempt);
    this.emit('reconnecting', { attempt: attempt + 1, delayMs });
    this.reconnectTimer = setTimeout(() => void this.reconnect(attempt), delayMs);
  }

  /** Registers again under the same peer id, proving it with the session token (a takeover if the old socket still counts as open). */
  private async reconnect(attempt: number): Promise<void> {
    this.reconnectTimer = null;
    const last = this.last!;
    const result = await this.openAndRegister({ ...this.options.register, peer_id: last.peer_id, session_token: last.session_token });
    if (this.state !== 'reconnecting') {
      // close() was called meanwhile.
      if (result.ok) this.socket?.close(1000, 'client closing');
      return;
    }
    if (result.ok) {
      this.state = 'registered';
      this.emit('registered', { message: result.value, reconnected: true });
    } else if (FINAL_REGISTER_ERRORS.has(result.error.code)) {
      this.state = 'closed';
      this.emit('disconnected', { code: 1000, reason: `${result.error.code}: ${result.error.message}`, willReconnect: false });
    } else {
      this.scheduleReconnect(attempt + 1);
    }
  }

  private emit<K extends EventName>(name: K, event: PeerClientEvents[K]): void {
    for (const handler of this.handlers.get(name) ?? []) {
      try {
        (handler as Handler<K>)(event);
      } catch (err) {
        // One listener's bug must not stop the others or the client.
        setTimeout(() => {
          throw err;
        });
      }
    }
  }
}

function fail(code: ClientErrorCode, message: string): { ok: false; error: ClientError } {
  return { ok: false, error: { code, message } };
}

import WebSocket from 'ws';

/** A message as received from the server. */
export type ServerMessage = { type: string; [field: string]: unknown };

export interface ConnectOptions {
  readonly timeoutMs?: number;
  readonly headers?: Record<string, string>;
  /** Bind the client socket to this local address (spreads source ports over 127.0.0.x). */
  readonly localAddress?: string;
}

export interface CloseInfo {
  readonly code: number;
  readonly reason: string;
}

type Matcher = (message: ServerMessage) => boolean;

interface Waiter {
  readonly match: Matcher;
  readonly resolve: (message: ServerMessage) => void;
  readonly reject: (error: Error) => void;
  readonly timer: NodeJS.Timeout;
}

export class ClientTimeoutError extends Error {
  readonly code = 'TIMEOUT';
}

export class ClientClosedError extends Error {
  readonly code = 'CLOSED';
  constructor(readonly close: CloseInfo) {
    super(`connection closed (${close.code}${close.reason ? ` ${close.reason}` : ''})`);
  }
}

/**
 * A small protocol client over `ws`, used by smoke, bench and the tests. Received messages queue
 * up until something waits for them, so no reply is missed between a send and its wait.
 */
export class SignalClient {
  private readonly queue: ServerMessage[] = [];
  private readonly waiters = new Set<Waiter>();
  private closeInfo: CloseInfo | null = null;
  /** Resolves when the socket closes, with its close code. */
  readonly closed: Promise<CloseInfo>;
  /** Every message received, in order. */
  readonly received: ServerMessage[] = [];

  private constructor(readonly ws: WebSocket) {
    this.closed = new Promise((resolve) => {
      ws.on('close', (code, reason) => {
        this.closeInfo = { code, reason: reason.toString() };
        for (const w of this.waiters) {
          clearTimeout(w.timer);
          w.reject(new ClientClosedError(this.closeInfo));
        }
        this.waiters.clear();
        resolve(this.closeInfo);
      });
    });
    ws.on('message', (data, isBinary) => this.onMessage(data as Buffer, isBinary));
    ws.on('error', () => {});
  }

  static connect(url: string, options: ConnectOptions = {}): Promise<SignalClient> {
    const timeoutMs = options.timeoutMs ?? 5000;
    return new Promise((resolve, reject) => {
      const ws = new WebSocket(url, {
        headers: options.headers,
        handshakeTimeout: timeoutMs,
        perMessageDeflate: false,
        ...(options.localAddress ? { localAddress: options.localAddress } : {}),
      });
      const client = new SignalClient(ws);
      const fail = (err: Error) => {
        ws.terminate();
        reject(err);
      };
      ws.once('open', () => {
        ws.off('error', fail);
        resolve(client);
      });
      ws.once('error', fail);
      ws.once('unexpected-response', (_req, res) => fail(new Error(`upgrade refused: HTTP ${res.statusCode}`)));
    });
  }

  get isOpen(): boolean {
    return this.ws.readyState === WebSocket.OPEN;
  }

  get closeCode(): CloseInfo | null {
    return this.closeInfo;
  }

  send(message: Record<string, unknown>): void {
    this.ws.send(JSON.stringify(message));
  }

  sendRaw(data: string | Buffer, binary = false): void {
    this.ws.send(data, { binary });
  }

  /** Next unconsumed message matching `match` (a type name or a predicate). */
  next(match: string | Matcher, timeoutMs = 5000): Promise<ServerMessage> {
    const matcher: Matcher = typeof match === 'string' ? (m) => m.type === match : match;
    const index = this.queue.findIndex(matcher);
    if (index >= 0) return Promise.resolve(this.queue.splice(index, 1)[0]!);
    if (this.closeInfo) return Promise.reject(new ClientClosedError(this.closeInfo));
    return new Promise((resolve, reject) => {
      const waiter: Waiter = {
        match: matcher,
        resolve,
        reject,
        timer: setTimeout(() => {
          this.waiters.delete(waiter);
          const what = typeof match === 'string' ? match : 'a matching message';
          reject(new ClientTimeoutError(`no ${what} within ${timeoutMs} ms`));
        }, timeoutMs),
      };
      this.waiters.add(waiter);
    });
  }

  /** Sends and waits for the reply of `replyType`, or an `error` (returned, not thrown). */
  async request(message: Record<string, unknown>, replyType: string, timeoutMs = 5000): Promise<ServerMessage> {
    this.send(message);
    return this.next((m) => m.type === replyType || m.type === 'error', timeoutMs);
  }

  /** Unconsumed messages, oldest first (and consumes them). */
  drain(): ServerMessage[] {
    return this.queue.splice(0, this.queue.length);
  }

  close(code = 1000): Promise<CloseInfo> {
    if (this.ws.readyState === WebSocket.OPEN || this.ws.readyState === WebSocket.CONNECTING) this.ws.close(code);
    return this.closed;
  }

  terminate(): void {
    this.ws.terminate();
  }

  private onMessage(data: Buffer, isBinary: boolean): void {
    let message: ServerMessage;
    try {
      // The server speaks JSON text frames only; a binary frame is a server fault, not a message.
      if (isBinary) throw new TypeError('binary frame');
      const parsed: unknown = JSON.parse(data.toString('utf8'));
      message =
        typeof parsed === 'object' && parsed !== null && typeof (parsed as { type?: unknown }).type === 'string'
          ? (parsed as ServerMessage)
          : { type: '__invalid__', raw: data.toString('utf8'), binary: isBinary };
    } catch {
      message = { type: '__invalid__', raw: data.toString('utf8'), binary: isBinary };
    }
    this.received.push(message);
    for (const w of this.waiters) {
      if (w.match(message)) {
        clearTimeout(w.timer);
        this.waiters.delete(w);
        w.resolve(message);
        return;
      }
    }
    this.queue.push(message);
  }
}

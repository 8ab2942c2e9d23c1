import type { Socket } from 'node:net';
import type { WebSocket } from 'ws';
import { CloseCode } from '../protocol/close-codes.js';
import type { PeerLeftReason } from '../protocol/messages.js';
import type { OutboundFrame, PeerRecord } from '../state/state-backend.js';
import { TickCork } from '../net/tick-cork.js';
import { TokenBucket } from './token-bucket.js';
import type { Identity } from '../auth/authenticator.js';

/** A frame that arrived as bytes still goes out as text. */
const TEXT_FRAME = { binary: false } as const;

/** One unit of work for a connection, processed strictly in arrival order. */
export type InboxItem =
  | { readonly kind: 'frame'; readonly data: Buffer; readonly isBinary: boolean; readonly receivedAt: number }
  | { readonly kind: 'close' };

export interface ConnectionLimits {
  readonly ratePerSecond: number;
  readonly rateBurst: number;
  readonly bytesPerSecond: number;
  readonly bytesBurst: number;
  readonly unregisteredBytesPerSecond: number;
  readonly sendBufferLimitBytes: number;
}

/** RATE_LIMITED replies per second, at most; the rest are dropped silently. */
const RATE_LIMIT_REPLIES_PER_SECOND = 10;

/** A WebSocket and what the server knows of it. */
export class Connection {
  /** The registration this connection holds, or null. */
  registration: PeerRecord | null = null;
  /** Who the upgrade request's credential proved this connection to be, if it carried one. */
  identity: Identity | null = null;
  /** Answered a protocol ping (or sent anything) since the last heartbeat tick. */
  alive = true;
  /** The socket is closing or closed: nothing more is sent. */
  closed = false;
  /** What presence subscribers are told when this connection goes away. */
  leftReason: PeerLeftReason = 'left';
  /** Which slice of the heartbeat interval pings this connection. */
  heartbeatSlot = 0;
  /** A handler is running; new work waits in the inbox. */
  busy = false;
  /** The end of the registration is queued (at the socket's close, or earlier for a cut-off consumer). */
  closeQueued = false;
  /** Called when the connection is cut off as a slow consumer, before its socket has closed. */
  onCutOff: (() => void) | null = null;
  readonly inbox: InboxItem[] = [];
  readonly rate: TokenBucket;
  /** Received bytes, so that few large frames cost no more than many small ones. */
  readonly bytes: TokenBucket;
  /** Received bytes while the connection has not registered: a smaller budget. */
  readonly unregisteredBytes: TokenBucket;
  readonly rateReplies = new TokenBucket(RATE_LIMIT_REPLIES_PER_SECOND, RATE_LIMIT_REPLIES_PER_SECOND);
  /** Settles once the socket has closed and its registration has been ended. */
  readonly finished: Promise<void>;
  private settleFinished!: () => void;
  private readonly cork: TickCork;

  constructor(
    readonly id: string,
    readonly ws: WebSocket,
    /** The TCP socket under `ws`. */
    socket: Pick<Socket, 'cork' | 'uncork'>,
    readonly remoteAddress: string,
    private readonly limits: ConnectionLimits,
  ) {
    this.rate = new TokenBucket(limits.ratePerSecond, limits.rateBurst);
    this.bytes = new TokenBucket(limits.bytesPerSecond, limits.bytesBurst);
    this.unregisteredBytes = new TokenBucket(limits.unregisteredBytesPerSecond, 2 * limits.unregisteredBytesPerSecond);
    this.cork = new TickCork(socket);
    this.finished = new Promise((resolve) => (this.settleFinished = resolve));
  }

  markFinished(): void {
    this.settleFinished();
  }

  get peerId(): string | null {
    return this.registration?.peerId ?? null;
  }

  /**
   * Queues a frame for the client. A client that does not read is not allowed to grow the
   * server's memory: past the send-buffer limit it is closed with 4001 and nothing more is queued.
   */
  send(frame: OutboundFrame): boolean {
    if (this.closed) return false;
    // The unread backlog decides, not the size of one reply: a large discovery result to a client
    // that reads is fine.
    if (this.ws.bufferedAmount > this.limits.sendBufferLimitBytes) {
      this.close(CloseCode.SLOW_CONSUMER, 'slow consumer');
      this.onCutOff?.();
      return false;
    }
    this.cork.hold();
    if (typeof frame === 'string') this.ws.send(frame);
    else this.ws.send(frame, TEXT_FRAME);
    return true;
  }

  /** A protocol ping, in the same write as any frame sent to the socket in this tick (the heartbeat's own ping frame). */
  ping(): void {
    if (this.closed) return;
    this.cork.hold();
    this.ws.ping();
  }

  close(code: number, reason: string, leftReason?: PeerLeftReason): void {
    if (leftReason) this.leftReason = leftReason;
    if (this.closed) return;
    this.closed = true;
    this.ws.close(code, reason);
  }

  terminate(leftReason: PeerLeftReason): void {
    this.leftReason = leftReason;
    this.closed = true;
    this.ws.terminate();
  }
}

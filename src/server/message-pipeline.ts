import { protocolError, StateUnavailableError, type ProtocolError } from '../protocol/error-codes.js';
import type { ClientMessage } from '../protocol/messages.js';
import type { PeerPredicate } from '../protocol/filters.js';
import type { Connection, InboxItem } from './connection.js';
import { errorFrame, PONG_FRAME } from '../protocol/frames.js';
import { handleDiscover } from './handlers/discover.js';
import { handleLeave, unregisterConnection } from './handlers/leave.js';
import { handleRegister } from './handlers/register.js';
import { handleRelay } from './handlers/relay.js';
import { handleUpdateMetadata } from './handlers/update-metadata.js';
import type { HandlerOutcome, HandlerResult, ServerContext } from './server-context.js';

const IDENTITY_FIELDS = ['from_peer_id', 'sender', 'peer_id'] as const;

/** The messages that only carry something to another peer. */
const RELAY_TYPES: ReadonlySet<string> = new Set(['peer_message', 'offer', 'answer', 'candidate', 'error', 'mesh_connect', 'mesh_answer', 'ice_candidate']);

/**
 * The message hot path, in one place: receive → validate → route → deliver.
 *
 * Each connection's frames (and finally its close) are handled strictly in order: while a
 * handler waits on shared state, later frames wait in the connection's inbox.
 */
export class MessagePipeline {
  constructor(private readonly ctx: ServerContext) {}

  /** Step 1, receive: rate limit (frames and bytes) before anything is parsed. */
  receive(conn: Connection, data: Buffer, isBinary: boolean): void {
    conn.alive = true;
    const now = performance.now();
    const bytes = conn.registration === null ? conn.unregisteredBytes : conn.bytes;
    const limited = !conn.rate.take(1, now) ? 'too many messages; slow down' : !bytes.take(data.length, now) ? 'too many bytes; slow down' : null;
    if (limited !== null) {
      this.ctx.metrics.messagesFailed.inc({ reason: 'RATE_LIMITED' });
      if (conn.rateReplies.take()) {
        this.ctx.log.info({ event: 'error', code: 'RATE_LIMITED', connectionId: conn.id, peerId: conn.peerId }, limited);
        conn.send(errorFrame(protocolError('RATE_LIMITED', limited)));
      }
      return;
    }
    this.enqueue(conn, { kind: 'frame', data, isBinary, receivedAt: now });
  }

  /**
   * The socket closed: the registration ends after what is pending. Pending frames are dropped,
   * except after a drain's close (1012): the relays a client sent before it are still delivered,
   * never lost silently, and nothing else pending is applied (see run).
   */
  closed(conn: Connection): void {
    if (conn.closeQueued) return;
    conn.closeQueued = true;
    if (conn.leftReason !== 'server_shutdown') conn.inbox.length = 0;
    this.enqueue(conn, { kind: 'close' });
  }

  private enqueue(conn: Connection, item: InboxItem): void {
    if (conn.busy) {
      conn.inbox.push(item);
      return;
    }
    let next: InboxItem | undefined = item;
    while (next !== undefined) {
      const pending = this.run(conn, next);
      if (pending !== undefined) {
        conn.busy = true;
        pending.then(() => {
          conn.busy = false;
          const queued = conn.inbox.shift();
          if (queued !== undefined) this.enqueue(conn, queued);
        });
        return;
      }
      next = conn.inbox.shift();
    }
  }

  private run(conn: Connection, item: InboxItem): Promise<void> | undefined {
    if (item.kind === 'close') {
      return unregisterConnection(this.ctx, conn, conn.leftReason)
        .catch((err: unknown) => this.ctx.log.error({ err, connectionId: conn.id }, 'close handling failed'))
        .finally(() => conn.markFinished());
    }
    // Step 2, validate.
    if (item.isBinary) {
      this.fail(conn, protocolError('INVALID_MESSAGE', 'binary frames are not accepted; send JSON text'));
      return undefined;
    }
    // Parsing costs up to ~150 ms per MiB (JSON of many small arrays): a connection that has not
    // registered (no credential proven) gets small frames only.
    const unregisteredMax = this.ctx.options.unregisteredMaxFrameBytes;
    if (conn.registration === null && item.data.length > unregisteredMax) {
      this.fail(conn, protocolError('INVALID_MESSAGE', `register first: frames before registration are limited to ${unregisteredMax} bytes`));
      return undefined;
    }
    const parsed = this.ctx.validator.parse(item.data.toString('utf8'));
    if (!parsed.ok) {
      this.fail(conn, parsed.error, parsed.requestType);
      return undefined;
    }
    const msg = parsed.message;
    // A closed connection's pending frames (a drain's): only relays still go out.
    if (conn.closeQueued && !RELAY_TYPES.has(msg.type)) return undefined;
    // Steps 3 and 4, route and deliver.
    let outcome: HandlerOutcome;
    try {
      outcome = this.route(conn, msg, parsed.filter);
    } catch (err) {
      outcome = Promise.reject(err);
    }
    if (outcome instanceof Promise) {
      return outcome.then(
        (result) => this.finish(conn, msg.type, item.receivedAt, result),
        (err: unknown) => this.finish(conn, msg.type, item.receivedAt, this.unexpected(conn, msg.type, err)),
      );
    }
    this.finish(conn, msg.type, item.receivedAt, outcome);
    return undefined;
  }

  /** Step 3, route: registration and identity checks, then the handler of the type. */
  private route(conn: Connection, msg: ClientMessage, filter: PeerPredicate | undefined): HandlerOutcome {
    const { ctx } = this;
    if (msg.type === 'ping') {
      conn.send(PONG_FRAME);
      return undefined;
    }
    if (msg.type === 'register') return handleRegister(ctx, conn, msg);
    const me = conn.registration;
    if (me === null) return protocolError('NOT_REGISTERED', `register before sending ${msg.type}`);
    for (const field of IDENTITY_FIELDS) {
      const claimed = msg[field];
      if (claimed != null && claimed !== me.peerId) {
        return protocolError('FORBIDDEN', `${field} does not match this connection's peer id`);
      }
    }
    switch (msg.type) {
      case 'discover_peers':
        return handleDiscover(ctx, conn, filter!);
      case 'update_metadata':
        return handleUpdateMetadata(ctx, conn, msg);
      case 'leave':
        return handleLeave(ctx, conn);
      default:
        return handleRelay(ctx, conn, msg);
    }
  }

  private finish(conn: Connection, type: string, receivedAt: number, result: HandlerResult): void {
    if (result !== undefined) this.fail(conn, result, type);
    this.ctx.metrics.handled(type, (performance.now() - receivedAt) / 1000);
  }

  /** Answers a message with the protocol's error (also later, for a relay refused by another instance). */
  fail(conn: Connection, error: ProtocolError, requestType?: string): void {
    this.ctx.metrics.messagesFailed.inc({ reason: error.code });
    this.ctx.log.info(
      { event: 'error', code: error.code, requestType, connectionId: conn.id, peerId: conn.peerId },
      error.message,
    );
    conn.send(errorFrame(error, requestType));
  }

  private unexpected(conn: Connection, type: string, err: unknown): ProtocolError {
    if (err instanceof RangeError) {
      // JSON nested deeper than the serializer's recursion allows: a limit, not a server fault.
      return protocolError('INVALID_MESSAGE', 'message is nested too deeply');
    }
    if (err instanceof StateUnavailableError) {
      return protocolError('SERVICE_UNAVAILABLE', 'shared state is unreachable; the message was not applied, try again');
    }
    this.ctx.log.error({ err, connectionId: conn.id, requestType: type }, 'handler failed');
    return protocolError('SERVICE_UNAVAILABLE', 'the server could not apply the message; try again');
  }
}

import { afterEach, expect } from 'vitest';
import { connect, freshRoom, type ServerMessage, type SignalClient } from '../helpers/harness.js';
import { expectValidServerMessage, serverMessageProblems } from '../helpers/server-schema.js';
import type { SignalingServer } from '../../src/server/signaling-server.js';
import type { PeerRecord } from '../../src/state/state-backend.js';

/**
 * Shared pieces of the protocol suite. Every client made here is remembered, and after each
 * test every message it received is checked against the server schemas: whatever the server
 * sends in these tests must be a valid server message, not only the replies a test looks at.
 */
const tracked: SignalClient[] = [];

afterEach(() => {
  const clients = tracked.splice(0);
  const problems = clients.flatMap((c) => c.received.flatMap((m) => serverMessageProblems(m)));
  expect(problems, 'messages received in this test that break the server schemas').toEqual([]);
});

export { freshRoom };
export type { ServerMessage, SignalClient };

/** A connected, unregistered client. */
export async function open(server: SignalingServer): Promise<SignalClient> {
  const client = await connect(server);
  tracked.push(client);
  return client;
}

/** Sends `register` and returns the reply (`registered`, `registered_auth` or `error`), validated. */
export async function register(
  client: SignalClient,
  fields: Record<string, unknown>,
  replyType = 'registered',
): Promise<ServerMessage> {
  const reply = await client.request({ type: 'register', ...fields }, replyType);
  expectValidServerMessage(reply);
  return reply;
}

/** Connects and registers; fails the test unless the reply is `replyType`. */
export async function peer(
  server: SignalingServer,
  fields: Record<string, unknown>,
  replyType = 'registered',
): Promise<{ client: SignalClient; registered: ServerMessage }> {
  const client = await open(server);
  const registered = await register(client, fields, replyType);
  expect(registered.type, JSON.stringify(registered)).toBe(replyType);
  return { client, registered };
}

/** Sends `message` and expects an `error` with `code` (and `request_type`), validated. */
export async function expectError(
  client: SignalClient,
  message: Record<string, unknown>,
  code: string,
  requestType: string | null = typeof message.type === 'string' ? message.type : null,
): Promise<ServerMessage> {
  client.send(message);
  const reply = await client.next('error', 3000);
  expectValidServerMessage(reply);
  expect(reply.code, JSON.stringify(reply)).toBe(code);
  expect(reply.reason).toBe(reply.message);
  if (requestType === null) expect(reply).not.toHaveProperty('request_type');
  else expect(reply.request_type).toBe(requestType);
  return reply;
}

/**
 * Round trip a `ping` on each client in turn. The server handles a connection's frames in
 * order and writes presence events before it handles the next frame, so once these pongs are
 * back, everything caused by what was sent before has been received.
 */
export async function settle(...clients: SignalClient[]): Promise<void> {
  for (const c of clients) {
    c.send({ type: 'ping' });
    const pong = await c.next('pong', 3000);
    expectValidServerMessage(pong);
  }
}

/** After `settle`, nothing else is waiting on the client. */
export async function expectNothing(...clients: SignalClient[]): Promise<void> {
  await settle(...clients);
  for (const c of clients) expect(c.drain()).toEqual([]);
}

/** `discover_peers` reply, validated. */
export async function discover(client: SignalClient, filters?: unknown): Promise<ServerMessage> {
  const reply = await client.request(
    filters === undefined ? { type: 'discover_peers' } : { type: 'discover_peers', filters },
    'peer_list',
  );
  expectValidServerMessage(reply);
  expect(reply.type, JSON.stringify(reply)).toBe('peer_list');
  return reply;
}

/** Peer ids of a `discover_peers` reply. */
export async function discoverIds(client: SignalClient, filters?: unknown): Promise<string[]> {
  const reply = await discover(client, filters);
  const peers = reply.peers as { peer_id: string }[];
  expect(reply.count).toBe(peers.length);
  return peers.map((p) => p.peer_id);
}

/** Next message of `type` (or matching), validated. */
export async function expectMessage(
  client: SignalClient,
  match: string | ((m: ServerMessage) => boolean),
  timeoutMs = 3000,
): Promise<ServerMessage> {
  const message = await client.next(match, timeoutMs);
  expectValidServerMessage(message);
  return message;
}

/** Waits until the server has seen its connection count drop to `count` (a socket close was handled). */
export async function waitForConnections(server: SignalingServer, count: number, timeoutMs = 3000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (server.connectionCount > count) {
    if (Date.now() > deadline) throw new Error(`server still has ${server.connectionCount} connections, wanted ${count}`);
    await new Promise((r) => setTimeout(r, 5));
  }
  // The close is handled in the same turn and its state changes in the microtasks after it.
  await new Promise((r) => setTimeout(r, 5));
}

/** A string of `length` characters. */
export function chars(length: number, c = 'x'): string {
  return c.repeat(length);
}

/**
 * Puts a peer straight into the server's shared state, for what no client can produce on
 * demand: two peers with the very same connected_at, or metadata no register would accept
 * (as another writer of shared state might have stored it). It has no connection.
 */
export async function injectPeer(
  server: SignalingServer,
  record: Pick<PeerRecord, 'peerId' | 'roomId' | 'connectedAt'> & { metadata?: unknown },
): Promise<void> {
  const outcome = await server.state.register({
    record: {
      role: 'peer',
      serverId: server.serverId,
      connectionId: `injected-${record.peerId}`,
      sessionToken: 'injected',
      subject: null,
      presence: false,
      ...record,
      metadata: (record.metadata ?? {}) as PeerRecord['metadata'],
    },
    current: null,
    wantAdmin: false,
    proof: { sessionToken: null, subject: null },
    newestWins: false,
    maxPeersPerRoom: 1000,
  });
  expect(outcome.ok).toBe(true);
}

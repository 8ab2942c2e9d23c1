import { afterEach } from 'vitest';
import { SignalClient, type ServerMessage } from '../../src/client/signal-client.js';
import { SignalingServer } from '../../src/server/signaling-server.js';
import type { ServerConfig, ServerDeps } from '../../src/server/server-options.js';

/**
 * Test harness: real servers on free loopback ports and real WebSocket clients, all stopped
 * after each test.
 */
const servers: SignalingServer[] = [];
const clients: SignalClient[] = [];

afterEach(async () => {
  const cs = clients.splice(0);
  cs.forEach((c) => c.terminate());
  const ss = servers.splice(0);
  await Promise.all(ss.map((s) => s.stop()));
});

export async function startServer(config: ServerConfig = {}, deps: ServerDeps = {}): Promise<SignalingServer> {
  const server = new SignalingServer({ host: '127.0.0.1', port: 0, ...config }, deps);
  servers.push(server);
  await server.start();
  return server;
}

export async function connect(target: SignalingServer | string, path = '/'): Promise<SignalClient> {
  const url = typeof target === 'string' ? target : `${target.url}${path}`;
  const client = await SignalClient.connect(url);
  clients.push(client);
  return client;
}

let counter = 0;
/** A room id no other test uses. */
export function freshRoom(prefix = 'room'): string {
  return `${prefix}-${process.pid}-${++counter}-${Math.random().toString(36).slice(2, 8)}`;
}

/** Connects and registers; resolves with the client and its `registered` reply. */
export async function registeredPeer(
  target: SignalingServer | string,
  register: Record<string, unknown>,
): Promise<{ client: SignalClient; registered: ServerMessage }> {
  const client = await connect(target);
  const registered = await client.request({ type: 'register', ...register }, 'registered');
  if (registered.type !== 'registered') throw new Error(`register failed: ${JSON.stringify(registered)}`);
  return { client, registered };
}

/** Waits a little and asserts nothing more arrived (for "nothing else happens" checks). */
export async function quiet(client: SignalClient, ms = 150): Promise<ServerMessage[]> {
  await new Promise((r) => setTimeout(r, ms));
  return client.drain();
}

export { SignalClient };
export type { ServerMessage };

import { connect, createServer, type Socket } from 'node:net';

/**
 * A TCP proxy in front of a server, to cut clients off the way a network does: `cut()` drops the
 * client sides and leaves the server sides open (the server still counts those connections as
 * alive); `refuse(n)` drops the next n connections at once.
 */
export async function tcpProxy(targetPort: number) {
  const pairs = new Set<{ client: Socket; upstream: Socket }>();
  const orphans = new Set<Socket>();
  let refusals = 0;
  let accepted = 0;
  const server = createServer((client) => {
    client.on('error', () => {});
    if (refusals > 0) {
      refusals--;
      client.destroy();
      return;
    }
    accepted++;
    const upstream = connect(targetPort, '127.0.0.1');
    upstream.on('error', () => {});
    const pair = { client, upstream };
    pairs.add(pair);
    client.pipe(upstream);
    upstream.pipe(client);
    client.on('close', () => pairs.delete(pair));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as { port: number };
  return {
    url: `ws://127.0.0.1:${port}`,
    get accepted() {
      return accepted;
    },
    cut(): void {
      for (const { client, upstream } of pairs) {
        client.unpipe(upstream);
        upstream.unpipe(client);
        client.destroy();
        orphans.add(upstream);
      }
      pairs.clear();
    },
    refuse(n: number): void {
      refusals = n;
    },
    async close(): Promise<void> {
      for (const { client, upstream } of pairs) {
        client.destroy();
        upstream.destroy();
      }
      orphans.forEach((s) => s.destroy());
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}

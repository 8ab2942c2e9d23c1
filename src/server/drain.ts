import type { Connection } from './connection.js';

/**
 * Closes connections spread evenly over `windowMs` (each at a random point of its own slot), so
 * that clients do not all reconnect to the other instances in the same millisecond. Resolves
 * when every one of them has been closed and its registration ended.
 */
export async function spreadCloses(
  connections: readonly Connection[],
  windowMs: number,
  close: (connection: Connection) => void,
): Promise<void> {
  const slot = connections.length > 0 ? windowMs / connections.length : 0;
  const timers = connections.map((conn, i) =>
    setTimeout(() => close(conn), Math.floor(slot * (i + Math.random()))),
  );
  await Promise.all(connections.map((c) => c.finished));
  timers.forEach(clearTimeout);
}

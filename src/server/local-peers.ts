import type { PeerRecord } from '../state/state-backend.js';
import type { Connection } from './connection.js';

/**
 * The registered connections this instance holds: by peer id for delivery, and presence
 * subscribers by room so that a presence event touches only the connections that asked.
 */
export class LocalPeers {
  private readonly byPeer = new Map<string, Connection>();
  private readonly presenceByRoom = new Map<string, Set<Connection>>();

  get(peerId: string): Connection | undefined {
    return this.byPeer.get(peerId);
  }

  get size(): number {
    return this.byPeer.size;
  }

  values(): IterableIterator<Connection> {
    return this.byPeer.values();
  }

  subscribers(roomId: string): ReadonlySet<Connection> | undefined {
    return this.presenceByRoom.get(roomId);
  }

  /** Binds a connection to its (new) registration. */
  bind(connection: Connection, record: PeerRecord): void {
    this.unbind(connection);
    connection.registration = record;
    this.byPeer.set(record.peerId, connection);
    if (record.presence) {
      let set = this.presenceByRoom.get(record.roomId);
      if (!set) this.presenceByRoom.set(record.roomId, (set = new Set()));
      set.add(connection);
    }
  }

  /** Forgets a connection's registration; another connection holding the same peer id is untouched. */
  unbind(connection: Connection): void {
    const record = connection.registration;
    if (record === null) return;
    connection.registration = null;
    if (this.byPeer.get(record.peerId) === connection) this.byPeer.delete(record.peerId);
    const set = this.presenceByRoom.get(record.roomId);
    if (set?.delete(connection) && set.size === 0) this.presenceByRoom.delete(record.roomId);
  }
}

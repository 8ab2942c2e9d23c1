import type { OutboundFrame, PeerRecord } from '../state/state-backend.js';
import type { Connection } from './connection.js';

/**
 * The registered connections this instance holds: by peer id for delivery, and presence
 * subscribers by room so that a presence event touches only the connections that asked.
 */
export class LocalPeers {
  private readonly byPeer = new Map<string, Connection>();
  private readonly presenceByRoom = new Map<string, Set<Connection>>();
  /**
   * Peer ids whose registration is in progress here. Shared state may route a relay here before
   * the registration's answer arrives (the bus and the command connection are not ordered): such
   * a relay waits for the answer instead of being refused.
   */
  private readonly registering = new Map<string, PendingRegistration>();

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

  /** Marks `peerId` as registering here until the returned function is called with the result. */
  beginRegistration(peerId: string): (registered: Connection | null) => void {
    let pending = this.registering.get(peerId);
    if (pending === undefined) this.registering.set(peerId, (pending = { inProgress: 0, held: [] }));
    pending.inProgress++;
    let ended = false;
    return (registered) => {
      if (ended) return;
      ended = true;
      pending.inProgress--;
      // A failed registration leaves held relays to another one of the same id still in progress.
      if (registered === null && pending.inProgress > 0) return;
      if (pending.inProgress === 0 && this.registering.get(peerId) === pending) this.registering.delete(peerId);
      for (const { roomId, frame, refuse } of pending.held.splice(0)) {
        if (registered === null || registered.registration?.roomId !== roomId || !registered.send(frame)) refuse();
      }
    };
  }

  /** Holds a relay for a peer id registering here; false when none is. */
  hold(peerId: string, roomId: string, frame: OutboundFrame, refuse: () => void): boolean {
    const pending = this.registering.get(peerId);
    if (pending === undefined) return false;
    pending.held.push({ roomId, frame, refuse });
    return true;
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

interface PendingRegistration {
  inProgress: number;
  readonly held: { readonly roomId: string; readonly frame: OutboundFrame; readonly refuse: () => void }[];
}

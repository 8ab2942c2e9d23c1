import type { PeerLeftReason } from '../../protocol/messages.js';
import type { PeerRecord } from '../state-backend.js';

export interface OwnedPeer {
  record: PeerRecord;
  /** Whether the peer holds its room's admin seat. */
  admin: boolean;
}

export interface PendingLeave {
  readonly record: PeerRecord;
  readonly reason: PeerLeftReason;
}

/**
 * This instance's registered peers: the local truth, written back to Redis after an outage. Peers
 * that left while Redis was unreachable wait in `pendingLeaves` until it is back.
 */
export class OwnedPeers {
  readonly peers = new Map<string, OwnedPeer>();
  readonly pendingLeaves = new Map<string, PendingLeave>();

  /** The owned record of `peerId` when `connectionId` holds it. */
  heldBy(peerId: string, connectionId: string): OwnedPeer | null {
    const owned = this.peers.get(peerId);
    return owned && owned.record.connectionId === connectionId ? owned : null;
  }
}

import { CloseCode } from '../protocol/close-codes.js';
import { peerLeftFrame } from '../protocol/frames.js';
import { serverOfConnection, type ControlMessage, type PeerRecord, type PeerRegistry, type RecordStore, type StateBus } from '../state/state-backend.js';

/** The close reason a removed peer gets unless the operator gives one. */
export const DEFAULT_KICK_REASON = 'removed by an operator';

/** How often a removal looks again at a peer that re-registered while being removed. */
const ATTEMPTS = 3;

export interface KickResult {
  readonly peerId: string;
  readonly roomId: string;
  readonly serverId: string;
  readonly connectionId: string;
  readonly reason: string;
  /** Whether the instance holding the connection heard the close order (false: it is gone). */
  readonly instanceNotified: boolean;
}

export interface RoomDeleteResult {
  readonly roomId: string;
  /** The peers removed, in the order they were removed. */
  readonly peers: readonly KickResult[];
  /** Whether the room's records were deleted (false when someone joined meanwhile). */
  readonly roomRemoved: boolean;
}

/** What removing peers needs of shared state. */
export type RemovalState = PeerRegistry & StateBus & Pick<RecordStore, 'getRoom' | 'deleteRoom'>;

/** A removal that could not settle: the peer kept re-registering. */
export class PeerRemovalError extends Error {
  readonly code = 'PEER_KEPT_REGISTERING';
}

/**
 * Operator removal of a peer, the same from a server's operator endpoint and from `kick` on
 * Redis: the shared record goes first (so a dead owner cannot keep it), the room's presence
 * subscribers are told `kicked`, then the instance holding the connection is told to close it
 * (1000), which it does without announcing the leave a second time. Null when there is no such peer.
 * `known`: the peer's record as the caller read it (and checked access to its room): a peer that
 * moves to another room meanwhile is not followed there (null).
 */
export async function kickPeer(state: RemovalState, peerId: string, reason = DEFAULT_KICK_REASON, known?: PeerRecord): Promise<KickResult | null> {
  let record = known ?? (await state.getPeer(peerId));
  for (let attempt = 0; attempt < ATTEMPTS && record !== null; attempt++) {
    const result = await removeRecord(state, record, reason);
    if (result !== null) return result;
    // It re-registered (moved its route) meanwhile: look again, but not beyond the room the
    // caller was allowed to act on.
    record = await state.getPeer(peerId);
    if (known !== undefined && record !== null && record.roomId !== known.roomId) return null;
  }
  if (record === null) return null;
  throw new PeerRemovalError(`peer "${peerId}" kept re-registering while being removed; try again`);
}

/**
 * Removes every peer of a room (peers joining meanwhile too, within a few rounds), then the room's
 * created-room record and, once nobody is left, its other records. Null when the room has neither
 * peers nor a live created-room record.
 */
export async function deleteRoomWithPeers(state: RemovalState, roomId: string, reason = DEFAULT_KICK_REASON): Promise<RoomDeleteResult | null> {
  const removed: KickResult[] = [];
  let seen = false;
  for (let round = 0; round < ATTEMPTS; round++) {
    const peers = await state.listRoom(roomId);
    if (peers.length === 0) break;
    seen = true;
    for (const record of peers) {
      const result = await removeRecord(state, record, reason);
      if (result !== null) removed.push(result);
    }
  }
  if (!seen && (await state.getRoom(roomId)) === null) return null;
  const roomRemoved = await state.deleteRoom(roomId);
  return { roomId, peers: removed, roomRemoved };
}

/** One record out of shared state, announced and closed; null when it was not held any more. */
async function removeRecord(state: RemovalState, record: PeerRecord, reason: string): Promise<KickResult | null> {
  const { peerId, roomId, connectionId } = record;
  if ((await state.removePeer(record)) === null) return null;
  await state.publishPresence(roomId, connectionId, peerLeftFrame(peerId, 'kicked'));
  const serverId = serverOfConnection(connectionId);
  const order: ControlMessage = { kind: 'close', peerId, connectionId, code: CloseCode.NORMAL, reason, leftReason: 'kicked' };
  const instanceNotified = await state.sendControl(serverId, order);
  return { peerId, roomId, serverId, connectionId, reason, instanceNotified };
}

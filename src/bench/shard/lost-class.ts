import type { FaultAction } from '../scenario/schema.js';

/**
 * Why a relay sent during a storm was never received, from what the bench saw of its sender and
 * its target. The server's promise (docs/protocol.md): a relay is delivered, or its sender gets an
 * error (PEER_NOT_FOUND, ...). A drain keeps it: the drained instance delivers before a target's
 * 1012 or refuses, and it still sends the relays a client sent before its own 1012
 * (message-pipeline.ts). So only an error, or a fault that left nobody to carry or to tell,
 * explains a loss; anything else was lost silently.
 */

export type LostClass = 'refused' | 'sender_closed' | 'target_faulted' | 'unexplained';

export const LOST_CLASSES: readonly LostClass[] = ['refused', 'sender_closed', 'target_faulted', 'unexplained'];

export type LostCounts = Record<LostClass, number>;

export function noLost(): LostCounts {
  return { refused: 0, sender_closed: 0, target_faulted: 0, unexplained: 0 };
}

/** A fault closed a connection `afterUs` after the relay was sent. */
export interface FaultClose {
  readonly afterUs: number;
  readonly action: FaultAction;
}

/** What became of a lost relay's sender connection (the one it left on) and target connection (the one it was sent to). */
export interface LostRelayFacts {
  /** An error came back for it. */
  readonly refused: boolean;
  readonly sender: FaultClose | null;
  readonly target: FaultClose | null;
}

/**
 * The class of a relay never received. A fault's close counts when it came within `withinUs` after
 * the send (an answer takes less: a close much later does not explain the silence).
 * - sender_closed: a kill took the sender's instance with the relay or its answer; or a drain
 *   closed the sender and its target too: the refusal that was due had nobody to go to.
 * - target_faulted: a kill took the target's instance with the relay in flight to it.
 * - unexplained: anything else; a drain alone never explains a loss.
 */
export function classifyLost(f: LostRelayFacts, withinUs: number): LostClass {
  if (f.refused) return 'refused';
  const counts = (c: FaultClose | null): c is FaultClose => c !== null && c.afterUs >= 0 && c.afterUs <= withinUs;
  const sender = counts(f.sender) ? f.sender : null;
  const target = counts(f.target) ? f.target : null;
  if (sender?.action === 'kill') return 'sender_closed';
  if (target?.action === 'kill') return 'target_faulted';
  if (sender !== null && target !== null) return 'sender_closed';
  return 'unexplained';
}

import type { PeerPredicate } from '../../protocol/filters.js';
import type { Connection } from '../connection.js';
import { peerListFrame, peerSummary } from '../../protocol/frames.js';
import type { HandlerResult, ServerContext } from '../server-context.js';

/** discover_peers: the other peers of the sender's room that match the (validated) filters, in discovery order. */
export async function handleDiscover(ctx: ServerContext, conn: Connection, match: PeerPredicate): Promise<HandlerResult> {
  const me = conn.registration!;
  const peers = (await ctx.state.listRoom(me.roomId))
    .filter((p) => p.peerId !== me.peerId && match(p))
    .map(peerSummary);
  conn.send(peerListFrame(peers));
  return undefined;
}

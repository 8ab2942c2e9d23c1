import { protocolError } from '../../protocol/error-codes.js';
import { metadataUpdatedFrame } from '../../protocol/frames.js';
import { mergeMetadata, metadataBytes } from '../../protocol/metadata.js';
import type { UpdateMetadataMessage } from '../../protocol/messages.js';
import type { PeerRecord } from '../../state/state-backend.js';
import type { Connection } from '../connection.js';
import { announceUpdated } from '../presence.js';
import type { HandlerResult, ServerContext } from '../server-context.js';

/** update_metadata: merge into the connection's own record (only its owner ever writes it). */
export async function handleUpdateMetadata(
  ctx: ServerContext,
  conn: Connection,
  msg: UpdateMetadataMessage,
): Promise<HandlerResult> {
  const me = conn.registration!;
  const metadata = mergeMetadata(me.metadata, msg.metadata);
  const { maxMetadataBytes } = ctx.options.limits;
  if (metadataBytes(metadata) > maxMetadataBytes) {
    return protocolError('INVALID_MESSAGE', `metadata: merged result larger than ${maxMetadataBytes} bytes as JSON`);
  }
  const record: PeerRecord = { ...me, metadata };
  if (!(await ctx.state.updatePeer(record))) {
    return protocolError('NOT_REGISTERED', 'this connection no longer holds its registration');
  }
  ctx.local.bind(conn, record);
  conn.send(metadataUpdatedFrame(me.peerId, metadata));
  await announceUpdated(ctx, record);
  return undefined;
}

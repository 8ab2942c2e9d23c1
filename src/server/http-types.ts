// What the HTTP endpoints take and answer, apart from the routes (the handlers behind them need only these).
import type { Caller } from './caller.js';

/** An endpoint's answer: status, JSON body, and headers beyond the JSON content type. */
export type HttpReply = { status: number; body: Record<string, unknown>; headers?: Record<string, string> };

/** POST /create-room, from `caller`. */
export interface CreateRoomRequest {
  readonly caller: Caller;
  readonly body: Record<string, unknown>;
}

/** POST /delete-peer, from `caller`; `reason` is the close reason the peer gets (a default when not given). */
export interface DeletePeerRequest {
  readonly caller: Caller;
  readonly peerId: string;
  readonly reason?: string;
}

/** POST /delete-peers-and-room: the room given, or the room of the peer given. */
export type DeleteRoomRequest = { readonly caller: Caller; readonly reason?: string } & ({ readonly roomId: string } | { readonly peerId: string });

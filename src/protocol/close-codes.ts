/** WebSocket close codes used by the server (see docs/protocol.md). */
export const CloseCode = {
  /** Normal closure. */
  NORMAL: 1000,
  /** Server stopping at once, no drain window. */
  GOING_AWAY: 1001,
  /** Credentials on the upgrade request rejected, or origin not allowed. */
  POLICY_VIOLATION: 1008,
  /** Frame larger than the maximum payload (sent by ws itself). */
  MESSAGE_TOO_BIG: 1009,
  /** Graceful drain: reconnect, with jitter, to another instance. */
  SERVICE_RESTART: 1012,
  /** Connection limit reached: try again later. */
  TRY_AGAIN_LATER: 1013,
  /** The client did not read and its send buffer overflowed. */
  SLOW_CONSUMER: 4001,
  /** The same peer registered on a newer connection. */
  REPLACED: 4002,
} as const;

export type CloseCode = (typeof CloseCode)[keyof typeof CloseCode];

/** Error codes of the wire protocol, in precedence order (the first that applies wins). */
export const ERROR_CODES = [
  'INVALID_JSON',
  'INVALID_MESSAGE',
  'UNKNOWN_MESSAGE_TYPE',
  'NOT_REGISTERED',
  'AUTH_FAILED',
  'ROOM_NOT_FOUND',
  'ROOM_FULL',
  'PEER_ID_TAKEN',
  'FORBIDDEN',
  'PEER_NOT_FOUND',
  'PEER_NOT_IN_ROOM',
  'RATE_LIMITED',
  'SERVICE_UNAVAILABLE',
] as const;

export type ErrorCode = (typeof ERROR_CODES)[number];

/** A protocol failure as a value: what the client is told in an `error` reply. */
export interface ProtocolError {
  readonly code: ErrorCode;
  readonly message: string;
}

export function protocolError(code: ErrorCode, message: string): ProtocolError {
  return { code, message };
}

/** Thrown by a state backend when shared state cannot be reached; becomes SERVICE_UNAVAILABLE. */
export class StateUnavailableError extends Error {
  readonly code = 'SERVICE_UNAVAILABLE' as const;
  constructor(message = 'shared state is unreachable', options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'StateUnavailableError';
  }
}

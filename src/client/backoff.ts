/** How long to wait before each reconnection attempt, and when not to come back at all. */

/** How long to wait before each reconnection attempt. */
export interface BackoffPolicy {
  /** Delay before the first attempt. */
  readonly initialDelayMs: number;
  /** The delay doubles per attempt up to this. */
  readonly maxDelayMs: number;
  /** 0..1: the share of each delay drawn at random, so that clients cut off together do not return together. */
  readonly jitter: number;
  /** Attempts before giving up (Infinity: never). */
  readonly maxAttempts: number;
}

export const DEFAULT_BACKOFF: BackoffPolicy = { initialDelayMs: 250, maxDelayMs: 15_000, jitter: 0.5, maxAttempts: Infinity };

/** The delay before attempt `attempt` (0 for the first). */
export function backoffDelay(policy: BackoffPolicy, attempt: number, random: () => number = Math.random): number {
  const base = Math.min(policy.maxDelayMs, policy.initialDelayMs * 2 ** Math.min(attempt, 30));
  return Math.round(base * (1 - policy.jitter + policy.jitter * random()));
}

/** Server close codes after which coming back would be wrong: a kick, a policy refusal, a takeover. */
export const FINAL_CLOSE_CODES: ReadonlySet<number> = new Set([1000, 1008, 4002]);
/** Register refusals (protocol error codes) that another attempt cannot fix. */
export const FINAL_REGISTER_ERRORS: ReadonlySet<string> = new Set(['AUTH_FAILED', 'ROOM_NOT_FOUND', 'INVALID_MESSAGE', 'PEER_ID_TAKEN', 'FORBIDDEN']);

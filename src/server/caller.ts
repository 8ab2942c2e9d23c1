/** Who sent a request to the HTTP endpoints, by what right, and from which client address (for rate limits). */
export type Caller =
  /** Gave the operator token. */
  | { readonly kind: 'operator'; readonly address: string }
  /** Authentication off and no operator token (local development): anyone acts as the operator. */
  | { readonly kind: 'anyone'; readonly address: string }
  /** Gave a valid JWT or API key: `jwt:<iss>:<sub>` or `key:<id>`. */
  | { readonly kind: 'subject'; readonly subject: string; readonly address: string };

/** Whether the caller has the operator's rights over every room. */
export function actsAsOperator(caller: Caller): boolean {
  return caller.kind !== 'subject';
}

/** The subject a room created by this caller records as its creator (null: the operator). */
export function creatorOf(caller: Caller): string | null {
  return caller.kind === 'subject' ? caller.subject : null;
}

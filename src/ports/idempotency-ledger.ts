/** in_progress while the call runs; committed with its result; failed when it never produced one. */
export type IdempotencyState = 'in_progress' | 'committed' | 'failed';

/** One key's entry, scoped by (agent, tool, key). */
export interface IdempotencyRecord {
  agent: string;
  /** `server/tool`. */
  tool: string;
  key: string;
  /** Hash of the arguments the key was first used with. */
  fingerprint: string;
  state: IdempotencyState;
  /** The stored CallToolResult of a committed call. */
  result?: unknown;
  createdAt: string;
  expiresAt: string;
}

export type ClaimOutcome = { claimed: true } | { claimed: false; existing: IdempotencyRecord };

/**
 * The idempotency ledger. `claim` is the only way to start a keyed call, and it is atomic:
 * of any number of concurrent claims for one key, exactly one returns `claimed: true`.
 */
export interface IdempotencyLedger {
  /** The live (unexpired at `now`) record of a key. */
  get(agent: string, tool: string, key: string, now: string): Promise<IdempotencyRecord | undefined>;
  /**
   * Inserts an in_progress record. A record that has expired (its expiresAt is not after the new
   * createdAt), or that failed, is replaced (a failed call never reached a result, so running it
   * again is what the agent wants).
   */
  claim(record: Omit<IdempotencyRecord, 'state' | 'result'>): Promise<ClaimOutcome>;
  /** in_progress → committed (with the result) or failed; does nothing to a record in any other state, or none. */
  complete(agent: string, tool: string, key: string, state: 'committed' | 'failed', result?: unknown): Promise<void>;
  /** Deletes records expired at `now`; returns how many. */
  prune(now: string): Promise<number>;
}

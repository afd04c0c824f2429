/**
 * in_progress while the call runs; committed with its result; failed when it never produced one;
 * unknown when the process running it died after the call went downstream (see `reconcile`).
 */
export type IdempotencyState = 'in_progress' | 'committed' | 'failed' | 'unknown';

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
  /** The process that claimed the key ("host:pid:start", "host:pid" before the start was added); absent on records older than crash recovery. */
  owner?: string;
  /** When the call went downstream; absent while it has not (waiting for an approval, say). */
  startedAt?: string;
}

export type ClaimOutcome = { claimed: true } | { claimed: false; existing: IdempotencyRecord };

export type ClaimRecord = Omit<IdempotencyRecord, 'state' | 'result' | 'startedAt'>;

/**
 * The idempotency ledger. `claim` is the only way to start a keyed call, and it is atomic:
 * of any number of concurrent claims for one key, exactly one returns `claimed: true`.
 */
export interface IdempotencyLedger {
  /** The live record of a key: unexpired at `now`, or unknown (those never expire). */
  get(agent: string, tool: string, key: string, now: string): Promise<IdempotencyRecord | undefined>;
  /**
   * Inserts an in_progress record. A record that has expired (its expiresAt is not after the new
   * createdAt) and is not unknown, or that failed, is replaced (a failed call never reached a
   * result, so running it again is what the agent wants).
   */
  claim(record: ClaimRecord): Promise<ClaimOutcome>;
  /** Notes that an in_progress call goes downstream now: from here on a crash leaves it unknown. */
  markStarted(agent: string, tool: string, key: string, at: string): Promise<void>;
  /** in_progress → committed (with the result) or failed; does nothing to a record in any other state, or none. */
  complete(agent: string, tool: string, key: string, state: 'committed' | 'failed', result?: unknown): Promise<void>;
  /** Records in one state (in_progress or unknown, the ones an operator looks at), oldest first. */
  list(state: 'in_progress' | 'unknown'): Promise<IdempotencyRecord[]>;
  /**
   * The crash verdict on an in_progress record of a dead `owner` (compare-and-set on state and
   * owner, so that a live process's record never moves): `unknown` when it had started, else
   * `failed`. False when the record is no longer that.
   */
  reconcile(record: Pick<IdempotencyRecord, 'agent' | 'tool' | 'key' | 'owner'>, to: 'unknown' | 'failed'): Promise<boolean>;
  /** An operator's decision on an unknown record: committed (with a result saying so) or failed (the key is free). */
  resolve(agent: string, tool: string, key: string, state: 'committed' | 'failed', result?: unknown): Promise<boolean>;
  /** Deletes records expired at `now`, except unknown ones; returns how many. */
  prune(now: string): Promise<number>;
}

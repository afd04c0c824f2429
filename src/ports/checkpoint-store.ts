import type { ChainHead, SignedCheckpoint, SignedPrune } from '../core/checkpoint.js';

/**
 * Signed checkpoints and prune records of the audit chain. Append-only, like the events; every
 * method answers a Promise so that network-backed adapters fit the same port.
 */
export interface CheckpointStore {
  /** The last chained event, or undefined when there is none. */
  head(): Promise<ChainHead | undefined>;
  /** Stores a checkpoint; a second one at the same seq (another process got there first) is ignored. */
  add(checkpoint: SignedCheckpoint): Promise<void>;
  /** Every checkpoint, in seq order. */
  list(): Promise<SignedCheckpoint[]>;
  latest(): Promise<SignedCheckpoint | undefined>;
  /** Every signed prune record, in floor order. */
  prunes(): Promise<SignedPrune[]>;
}

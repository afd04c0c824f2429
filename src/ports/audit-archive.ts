import type { SignedPrune } from '../core/checkpoint.js';
import type { ChainedEvent } from '../core/event-chain.js';

/** When events of each type expire: ISO-8601 cutoffs (events at or after a cutoff are kept). */
export interface RetentionCutoffs {
  /** For every type not named in `byType`. */
  default: string;
  byType: Readonly<Record<string, string>>;
}

/** The oldest event that must still be kept, which holds back the prune of everything after it. */
export interface RetainedEvent {
  seq: number;
  type: string;
  at: string;
}

/** Reading ranges of the chain (verify, export) and the one sanctioned deletion path (prune). */
export interface AuditArchive {
  /** Events with their chain fields in seq order, `afterSeq` < seq ≤ `throughSeq`. */
  events(range?: { afterSeq?: number; throughSeq?: number }): AsyncIterable<ChainedEvent>;
  /** The seq of the first event at or after `at`, or undefined when none is. */
  firstSeqAtOrAfter(at: string): Promise<number | undefined>;
  /** The first event not yet expired under `cutoffs`, or undefined when every event is. */
  firstRetained(cutoffs: RetentionCutoffs): Promise<RetainedEvent | undefined>;
  /**
   * Records the signed prune (its floor must be a stored checkpoint) and deletes every event up
   * to its floor, with the runs derived from them, in one transaction. Returns the events deleted.
   */
  prune(record: SignedPrune, by: string): Promise<number>;
}

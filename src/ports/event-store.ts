import type { ChainedEvent } from '../core/event-chain.js';
import type { GatehouseEvent, StoredEvent } from '../core/events.js';

/** Append-only event log. There is deliberately no update or delete verb. */
export interface EventStore {
  append(event: GatehouseEvent): Promise<void>;
  /** Several events in one transaction: all are written, or none. */
  appendBatch(events: readonly GatehouseEvent[]): Promise<void>;
  /** Events in order of appending, after `afterSeq` (exclusive). */
  read(options?: { afterSeq?: number; limit?: number; type?: string }): Promise<StoredEvent[]>;
  count(type?: string): Promise<number>;
  /** Every event as stored, with its chain links, in order: what `gatehouse audit verify` checks. */
  chain(): AsyncIterable<ChainedEvent>;
}

import type { ChainedEvent } from '../core/event-chain.js';
import type { GatehouseEvent, StoredEvent } from '../core/events.js';

/**
 * What a committed append survives, so what an acknowledged call's events survive (the outbox
 * answers the agent only after the commit, or after the store's journal holds them): `process` the death of the gateway process
 * (SIGKILL, OOM, crash); `power` also an operating-system crash or power loss of the machine
 * holding the data, at the cost of a disk flush per commit. docs/events.md, "Durability".
 */
export const DURABILITIES = ['process', 'power'] as const;
export type Durability = (typeof DURABILITIES)[number];

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
  /**
   * Makes events durable before they are committed, as their commit would (a journal the store
   * replays after a crash; see the SQLite store), so that a call can be answered before its
   * commit. False when the store cannot: then only the commit makes them durable.
   */
  journal?(events: readonly GatehouseEvent[]): boolean;
  /**
   * Journaled events the store refused, now kept as a dead letter: a replay of the journal must
   * not append them, or a retry of the letter would append them a second time.
   */
  deadLettered?(events: readonly GatehouseEvent[]): void;
}

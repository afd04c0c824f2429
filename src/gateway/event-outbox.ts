import type { Logger } from 'pino';
import type { GatehouseEvent } from '../core/events.js';
import type { EventStore } from '../ports/event-store.js';

/** The longest an enqueued event waits for a batch to ride with. */
export const DEFERRED_FLUSH_MS = 100;

interface Pending {
  event: GatehouseEvent;
  done: () => void;
}

/**
 * Group commit for audit events. Events appended while the event loop is busy are written
 * together in one transaction on the next turn, so concurrent calls share one commit instead of
 * paying one each. `append` resolves once the event is committed: a call awaits it before
 * answering, so an acknowledged call's events are durable (WAL, synchronous=NORMAL: they survive
 * a killed process). A failed write is logged, never thrown at the agent: the call already ran.
 */
export class EventOutbox {
  private queue: Pending[] = [];
  private scheduled: NodeJS.Immediate | undefined;
  private deferred: NodeJS.Timeout | undefined;

  constructor(
    private readonly store: EventStore,
    private readonly log: Logger,
    /** Told how many events each committed batch held (the checkpointer counts them). */
    private readonly written: (count: number) => void = () => undefined,
  ) {}

  /**
   * Queues an event nobody waits for (a call's `tool.call.requested`): it rides with the next
   * batch, usually the one that carries the call's outcome, instead of costing a commit of its
   * own; at the latest it is written after `DEFERRED_FLUSH_MS`.
   */
  enqueue(event: GatehouseEvent): void {
    this.queue.push({ event, done: () => undefined });
    this.deferred ??= setTimeout(() => this.flush(), DEFERRED_FLUSH_MS);
  }

  append(event: GatehouseEvent): Promise<void> {
    return new Promise((done) => {
      this.queue.push({ event, done });
      this.scheduled ??= setImmediate(() => this.flush());
    });
  }

  /** Writes everything queued now (used at shutdown, before the store closes). */
  flush(): void {
    if (this.scheduled) clearImmediate(this.scheduled);
    if (this.deferred) clearTimeout(this.deferred);
    this.scheduled = undefined;
    this.deferred = undefined;
    const batch = this.queue;
    this.queue = [];
    if (batch.length === 0) return;
    try {
      this.store.appendBatch(batch.map((pending) => pending.event));
      this.written(batch.length);
    } catch (error) {
      this.log.error({ err: error, events: batch.length }, 'audit events could not be written');
    }
    for (const pending of batch) pending.done();
  }
}

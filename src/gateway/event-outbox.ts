import { setTimeout as sleep } from 'node:timers/promises';
import type { Logger } from 'pino';
import type { GatehouseEvent } from '../core/events.js';
import type { EventStore } from '../ports/event-store.js';

/** The longest an enqueued (or, on SQLite, journaled) event waits for a batch to ride with. */
export const DEFERRED_FLUSH_MS = 100;

/** Retries of a batch the store refused: attempts after the first, and the first pause (doubled each time). */
export const OUTBOX_RETRY = { retries: 3, baseDelayMs: 100 };

/** Where a batch goes when every attempt failed (see dead-letter-box.ts); it must not lose it. */
export type DeadLetterEvents = (events: GatehouseEvent[], error: unknown, attempts: number) => Promise<void>;

interface Pending {
  event: GatehouseEvent;
  done: () => void;
}

const NOTHING = (): void => undefined;

/**
 * Group commit for audit events. Events appended while the event loop is busy, or while the
 * previous batch is being written, are written together in one transaction, so concurrent calls
 * share one commit instead of paying one each. One batch is written at a time, in order.
 * `append` resolves once the event is durable: a call awaits it before answering, so an
 * acknowledged call's events survive a killed process. That is their commit (PostgreSQL, or SQLite
 * with durability power), or, where the store keeps a journal (SQLite), the journal's write of
 * them and of every event queued before them: the call is answered, and its events are committed
 * within `DEFERRED_FLUSH_MS`, with those of every other call in that time, off the critical path.
 * A failed write is tried again `OUTBOX_RETRY.retries` times with exponential backoff (later
 * batches wait: the order is kept), then the batch is
 * dead-lettered; never thrown at the agent: the call already ran.
 */
export class EventOutbox {
  private queue: Pending[] = [];
  private scheduled: NodeJS.Immediate | undefined;
  private deferred: NodeJS.Timeout | undefined;
  private writing: Promise<void> | undefined;
  /** How many events at the head of the queue the store's journal holds. */
  private journaled = 0;

  constructor(
    private readonly store: EventStore,
    private readonly log: Logger,
    /** Told how many events each committed batch held (the checkpointer counts them). */
    private readonly written: (count: number) => void = () => undefined,
    private readonly options: { retry?: typeof OUTBOX_RETRY; deadLetter?: DeadLetterEvents } = {},
  ) {}

  /**
   * Queues an event nobody waits for (a call's `tool.call.requested`): it rides with the next
   * batch, usually the one that carries the call's outcome, instead of costing a commit of its
   * own; at the latest it is written after `DEFERRED_FLUSH_MS`.
   */
  enqueue(event: GatehouseEvent): void {
    this.queue.push({ event, done: NOTHING });
    this.deferred ??= setTimeout(() => void this.flush(), DEFERRED_FLUSH_MS);
  }

  append(event: GatehouseEvent): Promise<void> {
    if (this.store.journal) {
      // Durable once journaled: it rides with the next batch, as an enqueued event does, and
      // every call in those 100 ms shares one commit instead of each paying one.
      this.enqueue(event);
      if (this.journalQueued()) return Promise.resolve();
      // The journal could not be written: wait for the commit, as without one.
      const pending = this.queue.at(-1)!;
      this.scheduleFlush();
      return new Promise((done) => (pending.done = done));
    }
    return new Promise((done) => {
      this.queue.push({ event, done });
      this.scheduleFlush();
    });
  }

  /**
   * Resolves once every event queued so far is durable (in the store's journal, or committed, or
   * dead-lettered when the store refused it): the write-ahead of a call that may change something,
   * whose `tool.call.requested` must reach the store, whatever happens to this process, before the
   * call goes downstream. Without a journal it costs a commit when an event is queued.
   */
  writtenSoFar(): Promise<void> {
    const last = this.queue.at(-1);
    if (!last) return this.writing ?? Promise.resolve();
    if (this.journalQueued()) return Promise.resolve();
    return new Promise((resolve) => {
      const done = last.done;
      last.done = () => {
        done();
        resolve();
      };
      this.scheduleFlush();
    });
  }

  /** While a batch is being written, the next one starts when it ends (see flush). */
  private scheduleFlush(): void {
    if (!this.writing) this.scheduled ??= setImmediate(() => void this.flush());
  }

  /**
   * Puts the queued events the store's journal does not hold yet into it, in order: whatever
   * happens to this process after, they reach the store. False when the store has no journal or
   * it failed; then the commit is what makes them durable.
   */
  private journalQueued(): boolean {
    if (!this.store.journal) return false;
    if (this.journaled === this.queue.length) return true;
    if (!this.store.journal(this.queue.slice(this.journaled).map((pending) => pending.event))) return false;
    this.journaled = this.queue.length;
    return true;
  }

  /** Writes everything queued now, after the batch in flight (also used at shutdown, before the store closes). */
  async flush(): Promise<void> {
    if (this.scheduled) clearImmediate(this.scheduled);
    if (this.deferred) clearTimeout(this.deferred);
    this.scheduled = undefined;
    this.deferred = undefined;
    while (this.writing) await this.writing;
    // A batch leaves the queue journaled, so that an event appended later is durable only with
    // every event before it (journalQueued); without a journal this does nothing.
    this.journalQueued();
    const batch = this.queue;
    this.queue = [];
    this.journaled = 0;
    if (batch.length === 0) return;
    this.writing = this.write(batch);
    try {
      await this.writing;
    } finally {
      this.writing = undefined;
      if (this.queue.length > 0) this.scheduled ??= setImmediate(() => void this.flush());
    }
  }

  private async write(batch: Pending[]): Promise<void> {
    const events = batch.map((pending) => pending.event);
    const { retries, baseDelayMs } = this.options.retry ?? OUTBOX_RETRY;
    for (let attempt = 1; ; attempt += 1) {
      try {
        await this.store.appendBatch(events);
        this.written(batch.length);
        break;
      } catch (error) {
        if (attempt <= retries) {
          this.log.warn({ err: error, events: events.length, attempt }, 'audit events could not be written; trying again');
          await sleep(baseDelayMs * 2 ** (attempt - 1));
          continue;
        }
        this.log.error({ err: error, events: events.length, attempts: attempt }, 'audit events could not be written: dead-lettered');
        const kept = this.options.deadLetter
          ? await this.options.deadLetter(events, error, attempt).then(
              () => true,
              (lost: unknown) => {
                this.log.fatal({ err: lost, events }, 'audit events could not be dead-lettered either: they are only in this log');
                return false;
              },
            )
          : false;
        // Kept as a letter, they must not also come back from the journal after a crash.
        if (kept) this.store.deadLettered?.(events);
        break;
      }
    }
    for (const pending of batch) pending.done();
  }
}

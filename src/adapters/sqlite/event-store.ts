import path from 'node:path';
import { extendChain, storedEvent, type ChainedEvent, type ChainedFields } from '../../core/event-chain.js';
import type { GatehouseEvent, StoredEvent } from '../../core/events.js';
import type { EventStore } from '../../ports/event-store.js';
import type { SqliteDatabase } from './database.js';
import { deleteLeftJournal, EventJournal, journalName, leftJournals, linesAfter } from './event-journal.js';

type EventRow = ChainedFields;

/** Events read per query while walking the chain. */
const CHAIN_PAGE = 1000;

/** The checkpoint at the highest prune floor: where the chain goes on when a prune deleted every event. */
const PRUNED_THROUGH = 'SELECT c.seq, c.hash FROM audit_prunes p JOIN audit_checkpoints c ON c.seq = p.floor_seq ORDER BY p.floor_seq DESC LIMIT 1';

/**
 * Events in SQLite, hash-chained: a batch is written in an IMMEDIATE transaction that first
 * reads the last event's sequence number and hash, so that processes sharing the file extend
 * one chain, never two. With no event left after a prune, the last one is the pruned event
 * at the floor (its signed checkpoint): numbers are never used twice and the chain goes on.
 *
 * `journal` makes events durable before their commit (event-journal.ts); opening the store first
 * appends what the journals of dead processes hold beyond their last commit.
 */
export class SqliteEventStore implements EventStore {
  private readonly insert;
  private readonly last;
  private readonly prunedThrough;
  private readonly insertAll;
  private readonly markThrough;
  private readonly markOf;
  private readonly forgetMark;
  /** This process's journal, opened by the first `journal` call. */
  private journalFile: EventJournal | undefined;
  /** The journal line of each event written there and not yet committed. */
  private readonly lineOf = new WeakMap<GatehouseEvent, number>();
  private readonly folder: string | undefined;
  /** Whether `journal` may write one: not for a database in memory, with durability power, or once a journal could not be created. */
  private journaling: boolean;

  constructor(private readonly db: SqliteDatabase) {
    this.insert = db.prepare(
      'INSERT INTO events (seq, type, at, agent, profile, server, tool, payload, prev_hash, hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)',
    );
    this.last = db.prepare('SELECT seq, hash FROM events ORDER BY seq DESC LIMIT 1');
    this.prunedThrough = db.prepare(PRUNED_THROUGH);
    this.markThrough = db.prepare('INSERT INTO event_journals (name, through) VALUES (?, ?) ON CONFLICT (name) DO UPDATE SET through = excluded.through');
    this.markOf = db.prepare('SELECT through FROM event_journals WHERE name = ?').pluck();
    this.forgetMark = db.prepare('DELETE FROM event_journals WHERE name = ?');
    this.insertAll = db.transaction((events: readonly GatehouseEvent[], journal?: { name: string; through: number }) => {
      const last = (this.last.get() ?? this.prunedThrough.get()) as { seq: number; hash: string | null } | undefined;
      for (const row of extendChain(last, events)) {
        this.insert.run(row.seq, row.type, row.at, row.agent, row.profile, row.server, row.tool, row.payload, row.prevHash, row.hash);
      }
      if (journal) this.markThrough.run(journal.name, journal.through);
    });
    this.folder = db.memory ? undefined : path.dirname(db.name);
    // synchronous = FULL is durability: power (database.ts).
    this.journaling = !db.memory && db.pragma('synchronous', { simple: true }) !== 2;
    // Whatever this process's durability: a dead one's journal may hold events only it has.
    if (!db.memory) this.replayLeftJournals();
  }

  /**
   * Makes the events durable now, as a commit would, by appending them to this process's journal;
   * `appendBatch` commits them later. False when there is no journal or it cannot be written:
   * then only a commit makes them durable. There is none for a database in memory, nor with
   * `durability: power`, where a journal would have to be flushed to disk for each call, and a
   * commit's flush is shared by the calls of its batch.
   */
  journal(events: readonly GatehouseEvent[]): boolean {
    if (!this.journaling) return false;
    if (events.length === 0) return true;
    try {
      this.journalFile ??= this.createJournal();
      if (!this.journalFile) return false;
      let n = this.journalFile.write(events) - events.length;
      for (const event of events) this.lineOf.set(event, ++n);
      return true;
    } catch {
      return false;
    }
  }

  /** Marks journaled events that were dead-lettered, so that no replay appends them (best effort: a failed mark leaves them to the replay, as before). */
  deadLettered(events: readonly GatehouseEvent[]): void {
    const lines = events.map((event) => this.lineOf.get(event)).filter((n) => n !== undefined);
    if (!this.journalFile || lines.length === 0) return;
    try {
      this.journalFile.skip(lines);
    } catch {
      // The journal cannot be written: its lines stay as they are.
    }
  }

  /** A journal for this process, or undefined (and no more tries) when its file cannot be created. */
  private createJournal(): EventJournal | undefined {
    const name = journalName(this.db.name);
    // The row first: a journal file is never without the row that says how much of it is committed.
    this.markThrough.run(name, 0);
    try {
      return new EventJournal(name, this.folder!);
    } catch {
      this.journaling = false;
      this.forgetMark.run(name);
      return undefined;
    }
  }

  /**
   * Deletes this process's journal: at a clean shutdown, after the outbox's last batch, when every
   * event in it is committed or, if the store refused it, dead-lettered (where it is kept).
   */
  closeJournal(): void {
    const journal = this.journalFile;
    if (!journal) return;
    this.journalFile = undefined;
    journal.remove(this.folder!);
    this.forgetMark.run(journal.name);
  }

  async append(event: GatehouseEvent): Promise<void> {
    this.insertAll.immediate([event]);
  }

  async appendBatch(events: readonly GatehouseEvent[]): Promise<void> {
    const journal = this.journalFile;
    let through = 0;
    if (journal) for (const event of events) through = Math.max(through, this.lineOf.get(event) ?? 0);
    this.insertAll.immediate(events, through > 0 ? { name: journal!.name, through } : undefined);
    if (through > 0) journal!.committed(through);
  }

  /**
   * Appends what the journals of dead processes hold beyond their last commit, each in one
   * transaction with its new mark (so two processes opening the store together append it once),
   * then deletes the journal and its row.
   */
  private replayLeftJournals(): void {
    for (const name of leftJournals(this.db.name)) {
      const file = path.join(this.folder!, name);
      this.db
        .transaction(() => {
          const lines = linesAfter(file, (this.markOf.get(name) as number | undefined) ?? 0);
          if (lines.length > 0) this.insertAll(lines.map((line) => line.event), { name, through: lines.at(-1)!.n });
        })
        .immediate();
      deleteLeftJournal(this.folder!, name);
      this.forgetMark.run(name);
    }
  }

  /**
   * Every event with its chain fields, in order, for `gatehouse audit verify`. Read a page at a
   * time rather than through one open cursor, which would keep the connection busy between
   * the consumer's awaits.
   */
  async *chain(): AsyncGenerator<ChainedEvent> {
    const page = this.db.prepare(
      'SELECT seq, type, at, agent, profile, server, tool, payload, prev_hash AS prevHash, hash FROM events WHERE seq > ? ORDER BY seq LIMIT ?',
    );
    for (let after = 0; ; ) {
      const rows = page.all(after, CHAIN_PAGE) as ChainedEvent[];
      yield* rows;
      if (rows.length < CHAIN_PAGE) return;
      after = rows.at(-1)!.seq;
    }
  }

  async read(options: { afterSeq?: number; limit?: number; type?: string } = {}): Promise<StoredEvent[]> {
    const rows = this.db
      .prepare(`SELECT * FROM events WHERE seq > ? ${options.type ? 'AND type = ?' : ''} ORDER BY seq LIMIT ?`)
      .all(...[options.afterSeq ?? 0, ...(options.type ? [options.type] : []), options.limit ?? -1]) as EventRow[];
    return rows.map(storedEvent);
  }

  async count(type?: string): Promise<number> {
    const sql = type ? 'SELECT count(*) FROM events WHERE type = ?' : 'SELECT count(*) FROM events';
    return this.db.prepare(sql).pluck().get(...(type ? [type] : [])) as number;
  }
}

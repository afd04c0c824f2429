import { extendChain, storedEvent, type ChainedEvent, type ChainedFields } from '../../core/event-chain.js';
import type { GatehouseEvent, StoredEvent } from '../../core/events.js';
import type { EventStore } from '../../ports/event-store.js';
import type { SqliteDatabase } from './database.js';

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
 */
export class SqliteEventStore implements EventStore {
  private readonly insert;
  private readonly last;
  private readonly prunedThrough;
  private readonly insertAll;

  constructor(private readonly db: SqliteDatabase) {
    this.insert = db.prepare(
      'INSERT INTO events (seq, type, at, agent, profile, server, tool, payload, prev_hash, hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)',
    );
    this.last = db.prepare('SELECT seq, hash FROM events ORDER BY seq DESC LIMIT 1');
    this.prunedThrough = db.prepare(PRUNED_THROUGH);
    this.insertAll = db.transaction((events: readonly GatehouseEvent[]) => {
      const last = (this.last.get() ?? this.prunedThrough.get()) as { seq: number; hash: string | null } | undefined;
      for (const row of extendChain(last, events)) {
        this.insert.run(row.seq, row.type, row.at, row.agent, row.profile, row.server, row.tool, row.payload, row.prevHash, row.hash);
      }
    });
  }

  async append(event: GatehouseEvent): Promise<void> {
    this.insertAll.immediate([event]);
  }

  async appendBatch(events: readonly GatehouseEvent[]): Promise<void> {
    this.insertAll.immediate(events);
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

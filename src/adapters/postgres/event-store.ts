import { extendChain, storedEvent, type ChainedEvent } from '../../core/event-chain.js';
import type { GatehouseEvent, StoredEvent } from '../../core/events.js';
import type { EventStore } from '../../ports/event-store.js';
import type { QueryResult } from 'pg';
import { chainEvents } from './audit-archive.js';
import { CHAIN_COLUMNS, LOCK_SPACE, LOCKS, type BigintAsString, type PostgresDatabase } from './database.js';

type Row<T extends { seq: number }> = BigintAsString<T, 'seq'>;

/**
 * The last event; with none left after a prune, the pruned event at the highest floor (its
 * signed checkpoint), so that numbers are never used twice and the chain goes on from there.
 */
const TAIL = `(SELECT seq, hash FROM events ORDER BY seq DESC LIMIT 1)
  UNION ALL (SELECT c.seq, c.hash FROM audit_prunes p JOIN audit_checkpoints c ON c.seq = p.floor_seq ORDER BY p.floor_seq DESC LIMIT 1)
  ORDER BY seq DESC LIMIT 1`;

/**
 * Events in PostgreSQL, hash-chained with several writers: a batch is written in one
 * transaction that first takes the chain's advisory lock and only then reads the last event,
 * so that every gateway on the database extends one chain, never two. (The lock, not a row
 * lock on the tail: the row a waiting writer must link to does not exist until the holder commits.)
 */
export class PostgresEventStore implements EventStore {
  constructor(private readonly db: PostgresDatabase) {}

  async append(event: GatehouseEvent): Promise<void> {
    await this.appendBatch([event]);
  }

  async appendBatch(events: readonly GatehouseEvent[]): Promise<void> {
    if (events.length === 0) return;
    await this.db.transaction(async (client) => {
      // One round trip for the lock and the tail. Each statement of a simple query takes its own
      // snapshot (READ COMMITTED), so the tail is read after the lock is held, with every batch
      // committed before it visible.
      const results = (await client.query(
        `SELECT pg_advisory_xact_lock(${LOCK_SPACE}, ${LOCKS.eventChain}); ${TAIL}`,
      )) as unknown as Array<QueryResult<{ seq: string; hash: string }>>;
      const tail = results[1]!.rows[0];
      const last = tail && { seq: Number(tail.seq), hash: tail.hash };
      const chained = extendChain(last, events);
      // One statement for the whole batch: a column per array, unnested into rows.
      await client.query(
        `INSERT INTO events (seq, type, at, agent, profile, server, tool, payload, prev_hash, hash)
         SELECT * FROM unnest($1::bigint[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[], $9::text[], $10::text[])`,
        [
          chained.map((row) => row.seq),
          chained.map((row) => row.type),
          chained.map((row) => row.at),
          chained.map((row) => row.agent),
          chained.map((row) => row.profile),
          chained.map((row) => row.server),
          chained.map((row) => row.tool),
          chained.map((row) => row.payload),
          chained.map((row) => row.prevHash),
          chained.map((row) => row.hash),
        ],
      );
    });
  }

  /** Every event with its chain fields, in order, a page at a time, for `gatehouse audit verify`. */
  chain(): AsyncGenerator<ChainedEvent> {
    return chainEvents(this.db);
  }

  async read(options: { afterSeq?: number; limit?: number; type?: string } = {}): Promise<StoredEvent[]> {
    const { rows } = await this.db.query<Row<ChainedEvent>>(
      `SELECT ${CHAIN_COLUMNS} FROM events WHERE seq > $1 AND ($2::text IS NULL OR type = $2) ORDER BY seq LIMIT $3`,
      [options.afterSeq ?? 0, options.type ?? null, options.limit ?? null],
    );
    return rows.map((row) => storedEvent({ ...row, seq: Number(row.seq) }));
  }

  async count(type?: string): Promise<number> {
    const { rows } = await this.db.query<{ count: string }>('SELECT count(*) FROM events WHERE $1::text IS NULL OR type = $1', [type ?? null]);
    return Number(rows[0]!.count);
  }
}

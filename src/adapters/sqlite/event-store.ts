import { eventHash, GENESIS_HASH, type ChainedEvent, type ChainedFields } from '../../core/event-chain.js';
import type { GatehouseEvent, StoredEvent } from '../../core/events.js';
import type { EventStore } from '../../ports/event-store.js';
import type { SqliteDatabase } from './database.js';

type EventRow = ChainedFields;

/**
 * Events in SQLite, hash-chained: a batch is written in an IMMEDIATE transaction that first
 * reads the last event's sequence number and hash, so that processes sharing the file extend
 * one chain, never two.
 */
export class SqliteEventStore implements EventStore {
  private readonly insert;
  private readonly last;
  private readonly insertAll;

  constructor(private readonly db: SqliteDatabase) {
    this.insert = db.prepare(
      'INSERT INTO events (seq, type, at, agent, profile, server, tool, payload, prev_hash, hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)',
    );
    this.last = db.prepare('SELECT seq, hash FROM events ORDER BY seq DESC LIMIT 1');
    this.insertAll = db.transaction((events: readonly GatehouseEvent[]) => {
      const last = this.last.get() as { seq: number; hash: string | null } | undefined;
      let seq = last?.seq ?? 0;
      let prevHash = last?.hash ?? GENESIS_HASH;
      for (const event of events) {
        seq += 1;
        const fields = {
          seq,
          type: event.type,
          at: event.at,
          agent: event.agent ?? null,
          profile: event.profile ?? null,
          server: event.server ?? null,
          tool: event.tool ?? null,
          payload: JSON.stringify(event.payload),
        };
        const hash = eventHash(prevHash, fields);
        this.insert.run(fields.seq, fields.type, fields.at, fields.agent, fields.profile, fields.server, fields.tool, fields.payload, prevHash, hash);
        prevHash = hash;
      }
    });
  }

  append(event: GatehouseEvent): void {
    this.appendBatch([event]);
  }

  appendBatch(events: readonly GatehouseEvent[]): void {
    this.insertAll.immediate(events);
  }

  /** Every event with its chain fields, in order, for `gatehouse audit verify`. */
  *chain(): Generator<ChainedEvent> {
    const rows = this.db.prepare('SELECT seq, type, at, agent, profile, server, tool, payload, prev_hash AS prevHash, hash FROM events ORDER BY seq').iterate();
    for (const row of rows) yield row as ChainedEvent;
  }

  read(options: { afterSeq?: number; limit?: number; type?: string } = {}): StoredEvent[] {
    const rows = this.db
      .prepare(`SELECT * FROM events WHERE seq > ? ${options.type ? 'AND type = ?' : ''} ORDER BY seq LIMIT ?`)
      .all(...[options.afterSeq ?? 0, ...(options.type ? [options.type] : []), options.limit ?? -1]) as EventRow[];
    return rows.map((row) => ({
      seq: row.seq,
      type: row.type as StoredEvent['type'],
      at: row.at,
      agent: row.agent ?? undefined,
      profile: row.profile ?? undefined,
      server: row.server ?? undefined,
      tool: row.tool ?? undefined,
      payload: JSON.parse(row.payload) as Record<string, unknown>,
    }));
  }

  count(type?: string): number {
    const sql = type ? 'SELECT count(*) FROM events WHERE type = ?' : 'SELECT count(*) FROM events';
    return this.db.prepare(sql).pluck().get(...(type ? [type] : [])) as number;
  }
}

import type { GatehouseEvent, StoredEvent } from '../../core/events.js';
import type { EventStore } from '../../ports/event-store.js';
import type { SqliteDatabase } from './database.js';

interface EventRow {
  seq: number;
  type: string;
  at: string;
  agent: string | null;
  profile: string | null;
  server: string | null;
  tool: string | null;
  payload: string;
}

export class SqliteEventStore implements EventStore {
  private readonly insert;
  private readonly insertAll;

  constructor(private readonly db: SqliteDatabase) {
    this.insert = db.prepare('INSERT INTO events (type, at, agent, profile, server, tool, payload) VALUES (?, ?, ?, ?, ?, ?, ?)');
    this.insertAll = db.transaction((events: readonly GatehouseEvent[]) => {
      for (const event of events) this.append(event);
    });
  }

  append(event: GatehouseEvent): void {
    this.insert.run(
      event.type,
      event.at,
      event.agent ?? null,
      event.profile ?? null,
      event.server ?? null,
      event.tool ?? null,
      JSON.stringify(event.payload),
    );
  }

  appendBatch(events: readonly GatehouseEvent[]): void {
    this.insertAll(events);
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

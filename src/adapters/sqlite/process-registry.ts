import type { ProcessLiveness, ProcessRegistry } from '../../ports/process-registry.js';
import type { SqliteDatabase } from './database.js';

/** Gateway processes in SQLite: times from this host's clock (every process sharing the file runs on it). */
export class SqliteProcessRegistry implements ProcessRegistry {
  private readonly beatStmt;
  private readonly stopStmt;
  private readonly getStmt;

  constructor(db: SqliteDatabase) {
    this.beatStmt = db.prepare(
      'INSERT INTO gateway_processes (owner, started_at, last_seen) VALUES (?, ?, ?) ON CONFLICT (owner) DO UPDATE SET last_seen = excluded.last_seen, stopped_at = NULL',
    );
    this.stopStmt = db.prepare('UPDATE gateway_processes SET stopped_at = ? WHERE owner = ?');
    this.getStmt = db.prepare('SELECT last_seen, stopped_at FROM gateway_processes WHERE owner = ?');
  }

  async beat(owner: string): Promise<void> {
    const now = new Date().toISOString();
    this.beatStmt.run(owner, now, now);
  }

  async stopped(owner: string): Promise<void> {
    this.stopStmt.run(new Date().toISOString(), owner);
  }

  async liveness(owner: string, silentAfterMs: number): Promise<ProcessLiveness> {
    const row = this.getStmt.get(owner) as { last_seen: string; stopped_at: string | null } | undefined;
    if (!row) return 'unregistered';
    if (row.stopped_at !== null) return 'stopped';
    return Date.now() - Date.parse(row.last_seen) > silentAfterMs ? 'silent' : 'live';
  }
}

import type { ProcessLiveness, ProcessRegistry } from '../../ports/process-registry.js';
import type { PostgresDatabase } from './database.js';

/** Gateway processes in PostgreSQL: every time is the server's now(), so hosts' clocks need not agree. */
export class PostgresProcessRegistry implements ProcessRegistry {
  constructor(private readonly db: PostgresDatabase) {}

  async beat(owner: string): Promise<void> {
    await this.db.query(
      'INSERT INTO gateway_processes (owner, started_at, last_seen) VALUES ($1, now(), now()) ON CONFLICT (owner) DO UPDATE SET last_seen = now(), stopped_at = NULL',
      [owner],
    );
  }

  async stopped(owner: string): Promise<void> {
    await this.db.query('UPDATE gateway_processes SET stopped_at = now() WHERE owner = $1', [owner]);
  }

  async liveness(owner: string, silentAfterMs: number): Promise<ProcessLiveness> {
    const { rows } = await this.db.query<{ stopped: boolean; silent: boolean }>(
      "SELECT stopped_at IS NOT NULL AS stopped, now() - last_seen > $2 * interval '1 millisecond' AS silent FROM gateway_processes WHERE owner = $1",
      [owner, silentAfterMs],
    );
    const row = rows[0];
    if (!row) return 'unregistered';
    if (row.stopped) return 'stopped';
    return row.silent ? 'silent' : 'live';
  }
}

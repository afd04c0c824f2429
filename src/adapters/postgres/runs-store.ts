import { catchUp } from '../../core/catch-up.js';
import type { Run, RunFilter, RunsStore } from '../../ports/runs-store.js';
import type { PostgresDatabase } from './database.js';
import { RunsProjection } from './runs-projection.js';

/** Events per projecting transaction, so that one step holds the projection's lock briefly. */
const CHUNK = 50_000;

const COLUMNS = `run_id AS "runId", agent, profile, server, tool, gate, status, outcome, code, started_at AS "startedAt", duration_ms AS "durationMs", first_seq::float8 AS "firstSeq"`;

/**
 * The runs table (migration 002), projected from the events. Each filter has an index:
 * (status, started_at), (agent, started_at, status), run_id, and started_at alone.
 */
export class PostgresRunsStore implements RunsStore {
  constructor(private readonly db: PostgresDatabase) {}

  refresh(maxEvents = Number.POSITIVE_INFINITY): Promise<number> {
    return catchUp(
      () => RunsProjection.behind(this.db),
      (limit) => this.db.transaction((client) => RunsProjection.step(client, limit)),
      { maxEvents, chunk: CHUNK },
    );
  }

  async list(filter: RunFilter = {}): Promise<Run[]> {
    await this.refresh();
    const { sql, params } = runsQuery(filter);
    return (await this.db.query<Run>(sql, params)).rows;
  }
}

/** The SQL of a filtered runs query and its parameters (exported so that a test can check its plan). */
export function runsQuery(filter: RunFilter): { sql: string; params: Array<string | number> } {
  const where: string[] = [];
  const params: Array<string | number> = [];
  for (const [condition, value] of [
    ['run_id =', filter.runId],
    ['agent =', filter.agent],
    ['status =', filter.status],
    ['started_at >=', filter.since],
  ] as const) {
    if (value === undefined) continue;
    params.push(value);
    where.push(`${condition} $${params.length}`);
  }
  params.push(filter.limit ?? 50);
  const sql = `SELECT ${COLUMNS} FROM runs ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY started_at DESC LIMIT $${params.length}`;
  return { sql, params };
}

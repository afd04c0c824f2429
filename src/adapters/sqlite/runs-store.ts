import type { Statement } from 'better-sqlite3';
import { catchUp } from '../../core/catch-up.js';
import type { Run, RunFilter, RunsStore } from '../../ports/runs-store.js';
import type { SqliteDatabase } from './database.js';
import { RunsProjection } from './runs-projection.js';

/** Events per projecting transaction: about 0.3 s of work at most, so that writers are not held up long. */
const CHUNK = 50_000;

const COLUMNS = `run_id AS runId, agent, profile, server, tool, gate, status, outcome, code, started_at AS startedAt, duration_ms AS durationMs, first_seq AS firstSeq`;

/**
 * The runs table (migration 006), projected from the events. Each filter has an index:
 * (status, started_at), (agent, started_at, status), run_id, and started_at alone.
 */
export class SqliteRunsStore implements RunsStore {
  /** One prepared statement per combination of filters (at most 16). */
  private readonly statements = new Map<string, Statement<Array<string | number>>>();
  private readonly projection: RunsProjection;
  private readonly step;

  constructor(private readonly db: SqliteDatabase) {
    this.projection = new RunsProjection(db);
    this.step = db.transaction((maxEvents: number) => this.projection.step(maxEvents));
  }

  refresh(maxEvents = Number.POSITIVE_INFINITY): Promise<number> {
    return catchUp(() => this.projection.behind(), (limit) => this.step.immediate(limit), { maxEvents, chunk: CHUNK });
  }

  async list(filter: RunFilter = {}): Promise<Run[]> {
    await this.refresh();
    const { sql, params } = runsQuery(filter);
    let statement = this.statements.get(sql);
    if (!statement) this.statements.set(sql, (statement = this.db.prepare<Array<string | number>>(sql)));
    return statement.all(...params) as Run[];
  }
}

/** The SQL of a filtered runs query and its parameters (exported so that a test can check its plan). */
export function runsQuery(filter: RunFilter): { sql: string; params: Array<string | number> } {
  const where: string[] = [];
  const params: Array<string | number> = [];
  // With an agent, `+status` keeps the planner off the status index (it would, by default, on a
  // tie): the agent index holds status too, so a rare status is filtered there without reading rows,
  // whereas the status index would read a row per entry to check the agent.
  for (const [condition, value] of [
    ['run_id = ?', filter.runId],
    ['agent = ?', filter.agent],
    [filter.agent === undefined ? 'status = ?' : '+status = ?', filter.status],
    ['started_at >= ?', filter.since],
  ] as const) {
    if (value === undefined) continue;
    where.push(condition);
    params.push(value);
  }
  const sql = `SELECT ${COLUMNS} FROM runs ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY started_at DESC LIMIT ?`;
  return { sql, params: [...params, filter.limit ?? 50] };
}

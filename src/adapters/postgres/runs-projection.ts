import type pg from 'pg';
import { LOCK_SPACE, LOCKS, type PostgresDatabase } from './database.js';

/** The call events, one row each, with what the runs table takes from the payload. */
const CALL_EVENTS = `
  SELECT e.seq, coalesce(p."runId", 'event-' || e.seq) AS run_id, e.agent, e.profile, e.server, e.tool, p.gate,
    CASE e.type
      WHEN 'tool.call.requested' THEN 'running'
      WHEN 'tool.call.succeeded' THEN 'succeeded'
      WHEN 'tool.call.failed' THEN 'failed'
      WHEN 'tool.call.held' THEN 'held'
      ELSE 'denied'
    END AS status,
    p.outcome, p.code, e.at, p."durationMs" AS duration_ms
  FROM events e
  -- PostgreSQL's JSON functions refuse an escaped NUL anywhere in the text (a tool result may hold
  -- one), which would stop the projection for good: it becomes U+FFFD, escape for escape, so the
  -- text stays the same JSON otherwise. Parsed once per event.
  CROSS JOIN LATERAL json_to_record(replace(e.payload, '\\u0000', '\\uFFFD')::json)
    AS p("runId" text, gate text, outcome text, code text, "durationMs" double precision)
  WHERE e.seq > $1 AND e.seq <= $2 AND e.type IN ('tool.call.requested', 'tool.call.succeeded', 'tool.call.failed', 'tool.call.held', 'policy.denied')`;

/**
 * One row per run of the chunk, as SQLite's row-by-row upsert leaves it: who and when from the
 * run's first event, the rest from its last outcome event (or, with none, its first event).
 * PostgreSQL cannot upsert one key twice in a statement, so a run whose requested and outcome
 * events are both in the chunk (most of them) is folded here first.
 */
const PROJECT = `
  WITH chunk AS (${CALL_EVENTS}),
  firsts AS (SELECT DISTINCT ON (run_id) run_id, agent, profile, at, seq FROM chunk ORDER BY run_id, seq),
  lasts AS (
    SELECT DISTINCT ON (run_id) * FROM chunk
    ORDER BY run_id, status <> 'running' DESC, CASE WHEN status = 'running' THEN -seq ELSE seq END DESC
  )
  INSERT INTO runs (run_id, agent, profile, server, tool, gate, status, outcome, code, started_at, duration_ms, first_seq, last_seq)
  SELECT f.run_id, f.agent, f.profile, l.server, l.tool, l.gate, l.status, l.outcome, l.code, f.at, l.duration_ms, f.seq, l.seq
  FROM firsts f JOIN lasts l USING (run_id)
  ON CONFLICT (run_id) DO UPDATE SET
    server = excluded.server, tool = excluded.tool, gate = excluded.gate, status = excluded.status,
    outcome = excluded.outcome, code = excluded.code, duration_ms = excluded.duration_ms, last_seq = excluded.last_seq
  WHERE excluded.status <> 'running'`;

/**
 * Projects call events into the runs table: `tool.call.requested` inserts a running row, the
 * outcome event completes it (a late "requested" never reopens a run). One INSERT … SELECT per
 * chunk, in seq order, from where the last projection stopped (`runs_projection.last_seq`).
 * Gateways sharing the database take turns through an advisory lock.
 */
export class RunsProjection {
  /** Whether events were appended since the last projection (two index lookups, no lock). */
  static async behind(db: PostgresDatabase): Promise<boolean> {
    const { rows } = await db.query<{ behind: boolean }>(
      'SELECT coalesce((SELECT max(seq) FROM events), 0) > (SELECT last_seq FROM runs_projection WHERE id = 1) AS behind',
    );
    return rows[0]!.behind;
  }

  /**
   * Projects up to `maxEvents` further events (by seq); returns how many seqs it advanced. Call it
   * inside a transaction: it holds the projection's lock until that commits. Every event up to the
   * head it reads is committed (seqs are assigned and committed in order under the chain's lock).
   */
  static async step(client: pg.PoolClient, maxEvents: number): Promise<number> {
    // Two statements: the second takes its snapshot once the lock is held (READ COMMITTED), so it
    // sees the cursor as the previous holder committed it.
    const results = (await client.query(
      `SELECT pg_advisory_xact_lock(${LOCK_SPACE}, ${LOCKS.runsProjection});
       SELECT (SELECT last_seq FROM runs_projection WHERE id = 1) AS from, (SELECT coalesce(max(seq), 0) FROM events) AS head`,
    )) as unknown as Array<pg.QueryResult<{ from: string; head: string }>>;
    const rows = results[1]!.rows;
    const from = Number(rows[0]!.from);
    const to = Math.min(Number(rows[0]!.head), from + maxEvents);
    if (to <= from) return 0;
    await client.query(PROJECT, [from, to]);
    await client.query('UPDATE runs_projection SET last_seq = $1 WHERE id = 1', [to]);
    return to - from;
  }
}

import type { SqliteDatabase } from './database.js';

/**
 * Projects call events into the runs table: `tool.call.requested` inserts a running row, the
 * outcome event completes it (a late "requested" never reopens a run). One INSERT … SELECT per
 * chunk, in seq order, from where the last projection stopped (`runs_projection.last_seq`).
 * Call it inside an IMMEDIATE transaction, so that processes sharing the file take turns.
 */
export class RunsProjection {
  private readonly cursor;
  private readonly head;
  private readonly project;
  private readonly advance;

  constructor(db: SqliteDatabase) {
    this.cursor = db.prepare('SELECT last_seq FROM runs_projection WHERE id = 1').pluck();
    this.head = db.prepare('SELECT coalesce(max(seq), 0) FROM events').pluck();
    // The WHERE on the SELECT is what lets SQLite read ON CONFLICT as the upsert.
    this.project = db.prepare(`
      INSERT INTO runs (run_id, agent, profile, server, tool, gate, status, outcome, code, started_at, duration_ms, first_seq, last_seq)
      SELECT
        coalesce(json_extract(payload, '$.runId'), 'event-' || seq), agent, profile, server, tool, json_extract(payload, '$.gate'),
        CASE type
          WHEN 'tool.call.requested' THEN 'running'
          WHEN 'tool.call.succeeded' THEN 'succeeded'
          WHEN 'tool.call.failed' THEN 'failed'
          WHEN 'tool.call.held' THEN 'held'
          ELSE 'denied'
        END,
        json_extract(payload, '$.outcome'), json_extract(payload, '$.code'), at, json_extract(payload, '$.durationMs'), seq, seq
      FROM events
      WHERE seq > ? AND seq <= ? AND type IN ('tool.call.requested', 'tool.call.succeeded', 'tool.call.failed', 'tool.call.held', 'policy.denied')
      ORDER BY seq
      ON CONFLICT (run_id) DO UPDATE SET
        server = excluded.server, tool = excluded.tool, gate = excluded.gate, status = excluded.status,
        outcome = excluded.outcome, code = excluded.code, duration_ms = excluded.duration_ms, last_seq = excluded.last_seq
      WHERE excluded.status <> 'running'`);
    this.advance = db.prepare('UPDATE runs_projection SET last_seq = ? WHERE id = 1');
  }

  /** Whether events were appended since the last projection (two index lookups, no lock). */
  behind(): boolean {
    return (this.head.get() as number) > (this.cursor.get() as number);
  }

  /** Projects up to `maxEvents` further events (by seq); returns how many seqs it advanced. */
  step(maxEvents: number): number {
    const from = this.cursor.get() as number;
    const to = Math.min(this.head.get() as number, from + maxEvents);
    if (to <= from) return 0;
    this.project.run(from, to);
    this.advance.run(to);
    return to - from;
  }
}

import Database from 'better-sqlite3';

/** The audit event types that record the outcome of one tool call. */
export const CALL_EVENT_TYPES = ['tool.call.succeeded', 'tool.call.failed'] as const;

/**
 * Counts the rows of each call-outcome type in a Gatehouse SQLite store, opened read-only. Call it
 * after the gateway has stopped, so that every append has landed.
 */
export function countCallEvents(dbPath: string): Record<(typeof CALL_EVENT_TYPES)[number], number> {
  const db = new Database(dbPath, { readonly: true, fileMustExist: true });
  try {
    const count = db.prepare('SELECT COUNT(*) AS n FROM events WHERE type = ?');
    const [succeeded, failed] = CALL_EVENT_TYPES.map((type) => (count.get(type) as { n: number }).n);
    return { 'tool.call.succeeded': succeeded!, 'tool.call.failed': failed! };
  } finally {
    db.close();
  }
}

/** Every event type's count in a Gatehouse SQLite store, opened read-only (after the gateway stopped). */
export function countEventTypes(dbPath: string): Record<string, number> {
  const db = new Database(dbPath, { readonly: true, fileMustExist: true });
  try {
    const rows = db.prepare('SELECT type, COUNT(*) AS n FROM events GROUP BY type').all() as Array<{ type: string; n: number }>;
    return Object.fromEntries(rows.map((row) => [row.type, row.n]));
  } finally {
    db.close();
  }
}

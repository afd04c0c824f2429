import type { DeadLetter, DeadLetterChange, DeadLetterKind, DeadLetterStatus } from '../ports/dead-letter-store.js';

/** A dead_letters row as both adapters read it, times already as ISO strings and JSON parsed. */
export interface DeadLetterRow {
  id: string;
  kind: DeadLetterKind;
  status: DeadLetterStatus;
  created_at: string;
  agent: string | null;
  profile: string | null;
  server: string | null;
  tool: string | null;
  payload: Record<string, unknown>;
  error: { code: string; message: string };
  attempts: number;
  settled_at: string | null;
  settled_by: string | null;
  settle_reason: string | null;
  claimed_by: string | null;
}

/** The row as a letter, leaving out the columns that are null. */
export function deadLetterOf(row: DeadLetterRow): DeadLetter {
  const letter: DeadLetter = {
    id: row.id,
    kind: row.kind,
    status: row.status,
    createdAt: row.created_at,
    payload: row.payload,
    error: row.error,
    attempts: row.attempts,
  };
  const optional = { agent: row.agent, profile: row.profile, server: row.server, tool: row.tool, settledAt: row.settled_at, settledBy: row.settled_by, settleReason: row.settle_reason, claimedBy: row.claimed_by };
  for (const [name, value] of Object.entries(optional)) if (value !== null) Object.assign(letter, { [name]: value });
  return letter;
}

/** The columns an insert writes, in the order of INSERT_COLUMNS. */
export const INSERT_COLUMNS = 'id, kind, status, created_at, agent, profile, server, tool, payload, error, attempts';

export function insertValues(id: string, letter: Omit<DeadLetter, 'id' | 'status'>): unknown[] {
  return [id, letter.kind, 'open', letter.createdAt, letter.agent ?? null, letter.profile ?? null, letter.server ?? null, letter.tool ?? null, JSON.stringify(letter.payload), JSON.stringify(letter.error), letter.attempts];
}

/**
 * The UPDATE of a transition; parameters in the order of transitionValues (and of their places in
 * the text: SQLite's `?` bind in that order). A retry that failed again brings its error and
 * counts one more attempt.
 */
export function transitionSql(placeholder: (n: number) => string): string {
  const p = placeholder;
  return `UPDATE dead_letters SET status = ${p(1)}, settled_at = ${p(2)}, settled_by = COALESCE(${p(3)}, settled_by), settle_reason = COALESCE(${p(4)}, settle_reason),
    error = COALESCE(${p(5)}, error), attempts = attempts + ${p(6)}, claimed_by = COALESCE(${p(7)}, claimed_by)
    WHERE id = ${p(8)} AND status = ${p(9)}`;
}

export function transitionValues(id: string, from: DeadLetterStatus, to: DeadLetterStatus, change: DeadLetterChange): unknown[] {
  return [to, change.at, change.by ?? null, change.reason ?? null, change.error ? JSON.stringify(change.error) : null, change.error ? 1 : 0, change.owner ?? null, id, from];
}

import type { ClaimOutcome, IdempotencyLedger, IdempotencyRecord, IdempotencyState } from '../../ports/idempotency-ledger.js';
import type { SqliteDatabase } from './database.js';

interface LedgerRow {
  agent: string;
  tool: string;
  key: string;
  fingerprint: string;
  state: IdempotencyState;
  result: string | null;
  created_at: string;
  expires_at: string;
}

/**
 * The idempotency ledger in SQLite. The primary key (agent, tool, key) serialises claims: an
 * upsert either inserts, replaces an expired or failed row, or leaves the row alone, and
 * `changes` says which, even when several processes claim the same key at once.
 */
export class SqliteIdempotencyLedger implements IdempotencyLedger {
  private readonly getStmt;
  private readonly getAny;
  private readonly upsert;
  private readonly claimTx;
  private readonly completeStmt;
  private readonly pruneStmt;

  constructor(db: SqliteDatabase) {
    this.getStmt = db.prepare('SELECT * FROM idempotency WHERE agent = ? AND tool = ? AND key = ? AND expires_at > ?');
    this.getAny = db.prepare('SELECT * FROM idempotency WHERE agent = ? AND tool = ? AND key = ?');
    // The DO UPDATE's WHERE is the compare-and-set: a live, not-failed row is left as it is.
    this.upsert = db.prepare(
      `INSERT INTO idempotency (agent, tool, key, fingerprint, state, result, created_at, expires_at)
       VALUES (?, ?, ?, ?, 'in_progress', NULL, ?, ?)
       ON CONFLICT (agent, tool, key) DO UPDATE SET
         fingerprint = excluded.fingerprint, state = 'in_progress', result = NULL,
         created_at = excluded.created_at, expires_at = excluded.expires_at
       WHERE idempotency.expires_at <= excluded.created_at OR idempotency.state = 'failed'`,
    );
    // IMMEDIATE: the losing claim reads the row it lost to within the same write lock, so that
    // no other process can complete, replace or prune it between the upsert and the read.
    this.claimTx = db.transaction((record: Omit<IdempotencyRecord, 'state' | 'result'>): ClaimOutcome => {
      const { agent, tool, key } = record;
      if (this.upsert.run(agent, tool, key, record.fingerprint, record.createdAt, record.expiresAt).changes === 1) return { claimed: true };
      return { claimed: false, existing: fromRow(this.getAny.get(agent, tool, key) as LedgerRow) };
    });
    this.completeStmt = db.prepare(
      `UPDATE idempotency SET state = ?, result = ? WHERE agent = ? AND tool = ? AND key = ? AND state = 'in_progress'`,
    );
    this.pruneStmt = db.prepare('DELETE FROM idempotency WHERE expires_at <= ?');
  }

  async get(agent: string, tool: string, key: string, now: string): Promise<IdempotencyRecord | undefined> {
    const row = this.getStmt.get(agent, tool, key, now) as LedgerRow | undefined;
    return row && fromRow(row);
  }

  async claim(record: Omit<IdempotencyRecord, 'state' | 'result'>): Promise<ClaimOutcome> {
    return this.claimTx.immediate(record);
  }

  async complete(agent: string, tool: string, key: string, state: 'committed' | 'failed', result?: unknown): Promise<void> {
    // Only an in_progress row moves: a row that was pruned, or completed already, stays as it is.
    this.completeStmt.run(state, result === undefined ? null : JSON.stringify(result), agent, tool, key);
  }

  async prune(now: string): Promise<number> {
    return this.pruneStmt.run(now).changes;
  }
}

function fromRow(row: LedgerRow): IdempotencyRecord {
  const record: IdempotencyRecord = {
    agent: row.agent,
    tool: row.tool,
    key: row.key,
    fingerprint: row.fingerprint,
    state: row.state,
    createdAt: row.created_at,
    expiresAt: row.expires_at,
  };
  if (row.result !== null) record.result = JSON.parse(row.result);
  return record;
}

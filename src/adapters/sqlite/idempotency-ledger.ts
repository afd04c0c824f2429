import type { ClaimOutcome, ClaimRecord, IdempotencyLedger, IdempotencyRecord, IdempotencyState } from '../../ports/idempotency-ledger.js';
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
  owner: string | null;
  started_at: string | null;
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
  private readonly startedStmt;
  private readonly setStateStmt;
  private readonly listStmt;
  private readonly reconcileStmt;
  private readonly pruneStmt;

  constructor(db: SqliteDatabase) {
    this.getStmt = db.prepare(`SELECT * FROM idempotency WHERE agent = ? AND tool = ? AND key = ? AND (expires_at > ? OR state = 'unknown')`);
    this.getAny = db.prepare('SELECT * FROM idempotency WHERE agent = ? AND tool = ? AND key = ?');
    // The DO UPDATE's WHERE is the compare-and-set: a live, not-failed row, or an unknown one, is left as it is.
    this.upsert = db.prepare(
      `INSERT INTO idempotency (agent, tool, key, fingerprint, state, result, created_at, expires_at, owner, started_at)
       VALUES (?, ?, ?, ?, 'in_progress', NULL, ?, ?, ?, NULL)
       ON CONFLICT (agent, tool, key) DO UPDATE SET
         fingerprint = excluded.fingerprint, state = 'in_progress', result = NULL,
         created_at = excluded.created_at, expires_at = excluded.expires_at, owner = excluded.owner, started_at = NULL
       WHERE (idempotency.expires_at <= excluded.created_at AND idempotency.state <> 'unknown') OR idempotency.state = 'failed'`,
    );
    // IMMEDIATE: the losing claim reads the row it lost to within the same write lock, so that
    // no other process can complete, replace or prune it between the upsert and the read.
    this.claimTx = db.transaction((record: ClaimRecord): ClaimOutcome => {
      const { agent, tool, key } = record;
      if (this.upsert.run(agent, tool, key, record.fingerprint, record.createdAt, record.expiresAt, record.owner ?? null).changes === 1) return { claimed: true };
      return { claimed: false, existing: fromRow(this.getAny.get(agent, tool, key) as LedgerRow) };
    });
    this.startedStmt = db.prepare(`UPDATE idempotency SET started_at = ? WHERE agent = ? AND tool = ? AND key = ? AND state = 'in_progress'`);
    // complete (from in_progress) and resolve (from unknown): a compare-and-set on the state.
    this.setStateStmt = db.prepare(`UPDATE idempotency SET state = ?, result = ? WHERE agent = ? AND tool = ? AND key = ? AND state = ?`);
    this.listStmt = db.prepare('SELECT * FROM idempotency WHERE state = ? ORDER BY created_at, agent, tool, key');
    this.reconcileStmt = db.prepare(
      `UPDATE idempotency SET state = ? WHERE agent = ? AND tool = ? AND key = ? AND state = 'in_progress' AND owner IS ?`,
    );
    this.pruneStmt = db.prepare(`DELETE FROM idempotency WHERE expires_at <= ? AND state <> 'unknown'`);
  }

  async get(agent: string, tool: string, key: string, now: string): Promise<IdempotencyRecord | undefined> {
    const row = this.getStmt.get(agent, tool, key, now) as LedgerRow | undefined;
    return row && fromRow(row);
  }

  async claim(record: ClaimRecord): Promise<ClaimOutcome> {
    return this.claimTx.immediate(record);
  }

  async markStarted(agent: string, tool: string, key: string, at: string): Promise<void> {
    this.startedStmt.run(at, agent, tool, key);
  }

  async complete(agent: string, tool: string, key: string, state: 'committed' | 'failed', result?: unknown): Promise<void> {
    // Only an in_progress row moves: a row that was pruned, or completed already, stays as it is.
    this.setStateStmt.run(state, result === undefined ? null : JSON.stringify(result), agent, tool, key, 'in_progress');
  }

  async list(state: 'in_progress' | 'unknown'): Promise<IdempotencyRecord[]> {
    return (this.listStmt.all(state) as LedgerRow[]).map(fromRow);
  }

  async reconcile(record: Pick<IdempotencyRecord, 'agent' | 'tool' | 'key' | 'owner'>, to: 'unknown' | 'failed'): Promise<boolean> {
    return this.reconcileStmt.run(to, record.agent, record.tool, record.key, record.owner ?? null).changes === 1;
  }

  async resolve(agent: string, tool: string, key: string, state: 'committed' | 'failed', result?: unknown): Promise<boolean> {
    return this.setStateStmt.run(state, result === undefined ? null : JSON.stringify(result), agent, tool, key, 'unknown').changes === 1;
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
  if (row.owner !== null) record.owner = row.owner;
  if (row.started_at !== null) record.startedAt = row.started_at;
  return record;
}

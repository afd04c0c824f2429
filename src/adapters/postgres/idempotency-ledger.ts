import type { ClaimOutcome, IdempotencyLedger, IdempotencyRecord, IdempotencyState } from '../../ports/idempotency-ledger.js';
import type { PostgresDatabase } from './database.js';

interface LedgerRow {
  agent: string;
  tool: string;
  key: string;
  fingerprint: string;
  state: IdempotencyState;
  result: unknown;
  created_at: Date;
  expires_at: Date;
}

// The DO UPDATE's WHERE is the compare-and-set: a live, not-failed row is left as it is.
const CLAIM = `INSERT INTO idempotency (agent, tool, key, fingerprint, state, result, created_at, expires_at)
  VALUES ($1, $2, $3, $4, 'in_progress', NULL, $5, $6)
  ON CONFLICT (agent, tool, key) DO UPDATE SET
    fingerprint = excluded.fingerprint, state = 'in_progress', result = NULL,
    created_at = excluded.created_at, expires_at = excluded.expires_at
  WHERE idempotency.expires_at <= excluded.created_at OR idempotency.state = 'failed'
  RETURNING 1`;

/**
 * The idempotency ledger in PostgreSQL. The primary key (agent, tool, key) serialises claims:
 * the upsert either inserts, replaces an expired or failed row, or leaves the row alone, and
 * RETURNING says which, even when several gateways claim the same key at once.
 */
export class PostgresIdempotencyLedger implements IdempotencyLedger {
  constructor(private readonly db: PostgresDatabase) {}

  async get(agent: string, tool: string, key: string, now: string): Promise<IdempotencyRecord | undefined> {
    const { rows } = await this.db.query<LedgerRow>('SELECT * FROM idempotency WHERE agent = $1 AND tool = $2 AND key = $3 AND expires_at > $4', [agent, tool, key, now]);
    return rows[0] && fromRow(rows[0]);
  }

  async claim(record: Omit<IdempotencyRecord, 'state' | 'result'>): Promise<ClaimOutcome> {
    const { agent, tool, key } = record;
    const values = [agent, tool, key, record.fingerprint, record.createdAt, record.expiresAt];
    // A new key (the usual case) is one statement.
    if ((await this.db.query(CLAIM, values)).rowCount === 1) return { claimed: true };
    // Lost (or raced): again in a transaction, where an upsert that leaves the row alone still
    // locks it, so that the losing claim reads the row it lost to before anyone can complete,
    // replace or prune it.
    return this.db.transaction(async (client) => {
      if ((await client.query(CLAIM, values)).rowCount === 1) return { claimed: true };
      const { rows } = await client.query<LedgerRow>('SELECT * FROM idempotency WHERE agent = $1 AND tool = $2 AND key = $3', [agent, tool, key]);
      return { claimed: false, existing: fromRow(rows[0]!) };
    });
  }

  async complete(agent: string, tool: string, key: string, state: 'committed' | 'failed', result?: unknown): Promise<void> {
    // Only an in_progress row moves: a row that was pruned, or completed already, stays as it is.
    await this.db.query(`UPDATE idempotency SET state = $1, result = $2 WHERE agent = $3 AND tool = $4 AND key = $5 AND state = 'in_progress'`, [
      state,
      result === undefined ? null : JSON.stringify(result),
      agent,
      tool,
      key,
    ]);
  }

  async prune(now: string): Promise<number> {
    const { rowCount } = await this.db.query('DELETE FROM idempotency WHERE expires_at <= $1', [now]);
    return rowCount ?? 0;
  }
}

function fromRow(row: LedgerRow): IdempotencyRecord {
  const record: IdempotencyRecord = {
    agent: row.agent,
    tool: row.tool,
    key: row.key,
    fingerprint: row.fingerprint,
    state: row.state,
    createdAt: row.created_at.toISOString(),
    expiresAt: row.expires_at.toISOString(),
  };
  if (row.result !== null) record.result = row.result;
  return record;
}

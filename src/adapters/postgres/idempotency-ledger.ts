import type { ClaimOutcome, ClaimRecord, IdempotencyLedger, IdempotencyRecord, IdempotencyState } from '../../ports/idempotency-ledger.js';
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
  owner: string | null;
  started_at: Date | null;
}

// The DO UPDATE's WHERE is the compare-and-set: a live, not-failed row, or an unknown one, is left as it is.
const CLAIM = `INSERT INTO idempotency (agent, tool, key, fingerprint, state, result, created_at, expires_at, owner, started_at)
  VALUES ($1, $2, $3, $4, 'in_progress', NULL, $5, $6, $7, NULL)
  ON CONFLICT (agent, tool, key) DO UPDATE SET
    fingerprint = excluded.fingerprint, state = 'in_progress', result = NULL,
    created_at = excluded.created_at, expires_at = excluded.expires_at, owner = excluded.owner, started_at = NULL
  WHERE (idempotency.expires_at <= excluded.created_at AND idempotency.state <> 'unknown') OR idempotency.state = 'failed'
  RETURNING 1`;

/**
 * The idempotency ledger in PostgreSQL. The primary key (agent, tool, key) serialises claims:
 * the upsert either inserts, replaces an expired or failed row, or leaves the row alone, and
 * RETURNING says which, even when several gateways claim the same key at once.
 */
export class PostgresIdempotencyLedger implements IdempotencyLedger {
  constructor(private readonly db: PostgresDatabase) {}

  async get(agent: string, tool: string, key: string, now: string): Promise<IdempotencyRecord | undefined> {
    const { rows } = await this.db.query<LedgerRow>(`SELECT * FROM idempotency WHERE agent = $1 AND tool = $2 AND key = $3 AND (expires_at > $4 OR state = 'unknown')`, [agent, tool, key, now]);
    return rows[0] && fromRow(rows[0]);
  }

  async claim(record: ClaimRecord): Promise<ClaimOutcome> {
    const { agent, tool, key } = record;
    const values = [agent, tool, key, record.fingerprint, record.createdAt, record.expiresAt, record.owner ?? null];
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

  async markStarted(agent: string, tool: string, key: string, at: string): Promise<void> {
    await this.db.query(`UPDATE idempotency SET started_at = $1 WHERE agent = $2 AND tool = $3 AND key = $4 AND state = 'in_progress'`, [at, agent, tool, key]);
  }

  async complete(agent: string, tool: string, key: string, state: 'committed' | 'failed', result?: unknown): Promise<void> {
    // Only an in_progress row moves: a row that was pruned, or completed already, stays as it is.
    await this.setState(state, result, agent, tool, key, 'in_progress');
  }

  async list(state: 'in_progress' | 'unknown'): Promise<IdempotencyRecord[]> {
    const { rows } = await this.db.query<LedgerRow>('SELECT * FROM idempotency WHERE state = $1 ORDER BY created_at, agent, tool, key', [state]);
    return rows.map(fromRow);
  }

  async reconcile(record: Pick<IdempotencyRecord, 'agent' | 'tool' | 'key' | 'owner'>, to: 'unknown' | 'failed'): Promise<boolean> {
    const { rowCount } = await this.db.query(`UPDATE idempotency SET state = $1 WHERE agent = $2 AND tool = $3 AND key = $4 AND state = 'in_progress' AND owner IS NOT DISTINCT FROM $5`, [
      to,
      record.agent,
      record.tool,
      record.key,
      record.owner ?? null,
    ]);
    return rowCount === 1;
  }

  async resolve(agent: string, tool: string, key: string, state: 'committed' | 'failed', result?: unknown): Promise<boolean> {
    return this.setState(state, result, agent, tool, key, 'unknown');
  }

  /** state → `state` (with `result`), only from `from`; true when the record moved. */
  private async setState(state: IdempotencyState, result: unknown, agent: string, tool: string, key: string, from: IdempotencyState): Promise<boolean> {
    const { rowCount } = await this.db.query(`UPDATE idempotency SET state = $1, result = $2 WHERE agent = $3 AND tool = $4 AND key = $5 AND state = $6`, [
      state,
      result === undefined ? null : JSON.stringify(result),
      agent,
      tool,
      key,
      from,
    ]);
    return rowCount === 1;
  }

  async prune(now: string): Promise<number> {
    const { rowCount } = await this.db.query(`DELETE FROM idempotency WHERE expires_at <= $1 AND state <> 'unknown'`, [now]);
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
  if (row.owner !== null) record.owner = row.owner;
  if (row.started_at !== null) record.startedAt = row.started_at.toISOString();
  return record;
}

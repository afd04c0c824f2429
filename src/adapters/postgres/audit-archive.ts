import type { SignedPrune } from '../../core/checkpoint.js';
import type { ChainedEvent } from '../../core/event-chain.js';
import type { AuditArchive, RetainedEvent, RetentionCutoffs } from '../../ports/audit-archive.js';
import { CHAIN_COLUMNS, type BigintAsString, type PostgresDatabase } from './database.js';
import { RunsProjection } from './runs-projection.js';

/** Rows per query while walking the chain: no cursor stays open across the consumer's awaits. */
const PAGE = 1000;

/** Events with their chain fields in seq order, `afterSeq` < seq ≤ `throughSeq`, a page per query. */
export async function* chainEvents(db: PostgresDatabase, range: { afterSeq?: number; throughSeq?: number } = {}): AsyncGenerator<ChainedEvent> {
  let after = range.afterSeq ?? 0;
  const through = range.throughSeq ?? Number.MAX_SAFE_INTEGER;
  for (;;) {
    const { rows } = await db.query<BigintAsString<ChainedEvent, 'seq'>>(`SELECT ${CHAIN_COLUMNS} FROM events WHERE seq > $1 AND seq <= $2 ORDER BY seq LIMIT ${PAGE}`, [after, through]);
    for (const row of rows) yield { ...row, seq: Number(row.seq) };
    if (rows.length < PAGE) return;
    after = Number(rows[rows.length - 1]!.seq);
  }
}

/** The audit chain in PostgreSQL, for verify, export and prune. */
export class PostgresAuditArchive implements AuditArchive {
  constructor(private readonly db: PostgresDatabase) {}

  events(range: { afterSeq?: number; throughSeq?: number } = {}): AsyncGenerator<ChainedEvent> {
    return chainEvents(this.db, range);
  }

  async firstSeqAtOrAfter(at: string): Promise<number | undefined> {
    const { rows } = await this.db.query<{ seq: string | null }>('SELECT min(seq) AS seq FROM events WHERE at COLLATE "C" >= $1', [at]);
    return rows[0]!.seq === null ? undefined : Number(rows[0]!.seq);
  }

  async firstRetained(cutoffs: RetentionCutoffs): Promise<RetainedEvent | undefined> {
    const types = Object.entries(cutoffs.byType);
    // $1 is the default cutoff; each type named then takes two parameters (its name, its cutoff).
    const cases = types.map((_, i) => `WHEN $${2 * i + 2} THEN at COLLATE "C" >= $${2 * i + 3}`).join(' ');
    const kept = types.length === 0 ? 'at COLLATE "C" >= $1' : `CASE type ${cases} ELSE at COLLATE "C" >= $1 END`;
    // In seq order from the oldest: the scan stops at the first event still kept.
    const { rows } = await this.db.query<BigintAsString<RetainedEvent, 'seq'>>(`SELECT seq, type, at FROM events WHERE ${kept} ORDER BY seq LIMIT 1`, [
      cutoffs.default,
      ...types.flat(),
    ]);
    return rows[0] && { ...rows[0], seq: Number(rows[0].seq) };
  }

  async prune(record: SignedPrune, by: string): Promise<number> {
    return this.db.transaction(async (client) => {
      const { rows } = await client.query<{ count: string }>('SELECT count(*) FROM events WHERE seq <= $1', [record.floorSeq]);
      const deleted = Number(rows[0]!.count);
      // The floor row first: the events_no_delete trigger lets deletes through only below it.
      const values = [record.floorSeq, record.at, record.keyId, record.signature, deleted, by];
      await client.query('INSERT INTO audit_prunes (floor_seq, pruned_at, key_id, signature, deleted, by) VALUES ($1, $2, $3, $4, $5, $6)', values);
      // The runs of the deleted events go too; project first (under the projection's lock, held
      // to the commit), so that none is left half-made.
      for (let advanced = 1; advanced > 0; ) advanced = await RunsProjection.step(client, 100_000);
      await client.query('DELETE FROM events WHERE seq <= $1', [record.floorSeq]);
      await client.query('DELETE FROM runs WHERE last_seq <= $1', [record.floorSeq]);
      return deleted;
    });
  }
}

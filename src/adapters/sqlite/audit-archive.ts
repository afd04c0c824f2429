import type { SignedPrune } from '../../core/checkpoint.js';
import type { ChainedEvent } from '../../core/event-chain.js';
import type { AuditArchive, RetainedEvent, RetentionCutoffs } from '../../ports/audit-archive.js';
import type { SqliteDatabase } from './database.js';
import { RunsProjection } from './runs-projection.js';

/** Rows per query while walking the chain: no statement stays open across an await. */
const PAGE = 10_000;

const CHAIN_COLUMNS = 'seq, type, at, agent, profile, server, tool, payload, prev_hash AS prevHash, hash';

/** The audit chain in SQLite, for verify, export and prune. */
export class SqliteAuditArchive implements AuditArchive {
  private readonly page;
  private readonly pruneAll;

  constructor(private readonly db: SqliteDatabase) {
    const runs = new RunsProjection(db);
    this.page = db.prepare(`SELECT ${CHAIN_COLUMNS} FROM events WHERE seq > ? AND seq <= ? ORDER BY seq LIMIT ${PAGE}`);
    this.pruneAll = db.transaction((record: SignedPrune, by: string) => {
      const deleted = db.prepare('SELECT count(*) FROM events WHERE seq <= ?').pluck().get(record.floorSeq) as number;
      // The floor row first: the events_no_delete trigger lets deletes through only below it.
      db.prepare('INSERT INTO audit_prunes (floor_seq, pruned_at, key_id, signature, deleted, by) VALUES (?, ?, ?, ?, ?, ?)').run(
        record.floorSeq,
        record.at,
        record.keyId,
        record.signature,
        deleted,
        by,
      );
      // The runs of the deleted events go too; project first, so that none is left half-made.
      for (let advanced = 1; advanced > 0; ) advanced = runs.step(100_000);
      db.prepare('DELETE FROM events WHERE seq <= ?').run(record.floorSeq);
      db.prepare('DELETE FROM runs WHERE last_seq <= ?').run(record.floorSeq);
      return deleted;
    });
  }

  async *events(range: { afterSeq?: number; throughSeq?: number } = {}): AsyncGenerator<ChainedEvent> {
    let after = range.afterSeq ?? 0;
    const through = range.throughSeq ?? Number.MAX_SAFE_INTEGER;
    for (;;) {
      const rows = this.page.all(after, through) as ChainedEvent[];
      for (const row of rows) yield row;
      if (rows.length < PAGE) return;
      after = rows[rows.length - 1]!.seq;
    }
  }

  async firstSeqAtOrAfter(at: string): Promise<number | undefined> {
    return (this.db.prepare('SELECT min(seq) FROM events WHERE at >= ?').pluck().get(at) as number | null) ?? undefined;
  }

  async firstRetained(cutoffs: RetentionCutoffs): Promise<RetainedEvent | undefined> {
    const types = Object.entries(cutoffs.byType);
    const kept = types.length === 0 ? 'at >= ?' : `CASE type ${types.map(() => 'WHEN ? THEN at >= ?').join(' ')} ELSE at >= ? END`;
    // In seq order from the oldest: the scan stops at the first event still kept.
    return this.db
      .prepare(`SELECT seq, type, at FROM events WHERE ${kept} ORDER BY seq LIMIT 1`)
      .get(...types.flat(), cutoffs.default) as RetainedEvent | undefined;
  }

  async prune(record: SignedPrune, by: string): Promise<number> {
    return this.pruneAll.immediate(record, by);
  }
}

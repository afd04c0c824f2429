import type { ChainHead, SignedCheckpoint, SignedPrune } from '../../core/checkpoint.js';
import type { CheckpointStore } from '../../ports/checkpoint-store.js';
import type { SqliteDatabase } from './database.js';

const CHECKPOINT_COLUMNS = 'seq, hash, at, key_id AS keyId, signature';

/** Checkpoints and prune records in SQLite (tables audit_checkpoints and audit_prunes, migration 006). */
export class SqliteCheckpointStore implements CheckpointStore {
  private readonly headQuery;
  private readonly insert;
  private readonly all;
  private readonly last;
  private readonly allPrunes;

  constructor(db: SqliteDatabase) {
    this.headQuery = db.prepare('SELECT seq, hash FROM events WHERE hash IS NOT NULL ORDER BY seq DESC LIMIT 1');
    this.insert = db.prepare('INSERT OR IGNORE INTO audit_checkpoints (seq, hash, at, key_id, signature) VALUES (?, ?, ?, ?, ?)');
    this.all = db.prepare(`SELECT ${CHECKPOINT_COLUMNS} FROM audit_checkpoints ORDER BY seq`);
    this.last = db.prepare(`SELECT ${CHECKPOINT_COLUMNS} FROM audit_checkpoints ORDER BY seq DESC LIMIT 1`);
    this.allPrunes = db.prepare('SELECT floor_seq AS floorSeq, pruned_at AS at, key_id AS keyId, signature FROM audit_prunes ORDER BY floor_seq');
  }

  async head(): Promise<ChainHead | undefined> {
    return this.headQuery.get() as ChainHead | undefined;
  }

  async add(checkpoint: SignedCheckpoint): Promise<void> {
    this.insert.run(checkpoint.seq, checkpoint.hash, checkpoint.at, checkpoint.keyId, checkpoint.signature);
  }

  async list(): Promise<SignedCheckpoint[]> {
    return this.all.all() as SignedCheckpoint[];
  }

  async latest(): Promise<SignedCheckpoint | undefined> {
    return this.last.get() as SignedCheckpoint | undefined;
  }

  async prunes(): Promise<SignedPrune[]> {
    return this.allPrunes.all() as SignedPrune[];
  }
}

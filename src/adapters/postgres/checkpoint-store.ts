import type { ChainHead, SignedCheckpoint, SignedPrune } from '../../core/checkpoint.js';
import type { CheckpointStore } from '../../ports/checkpoint-store.js';
import type { BigintAsString, PostgresDatabase } from './database.js';

const CHECKPOINT_COLUMNS = 'seq, hash, at, key_id AS "keyId", signature';


/** Checkpoints and prune records in PostgreSQL (tables audit_checkpoints and audit_prunes, migration 002). */
export class PostgresCheckpointStore implements CheckpointStore {
  constructor(private readonly db: PostgresDatabase) {}

  async head(): Promise<ChainHead | undefined> {
    const { rows } = await this.db.query<BigintAsString<ChainHead, 'seq'>>('SELECT seq, hash FROM events ORDER BY seq DESC LIMIT 1');
    return rows[0] && { seq: Number(rows[0].seq), hash: rows[0].hash };
  }

  async add(checkpoint: SignedCheckpoint): Promise<void> {
    await this.db.query('INSERT INTO audit_checkpoints (seq, hash, at, key_id, signature) VALUES ($1, $2, $3, $4, $5) ON CONFLICT (seq) DO NOTHING', [
      checkpoint.seq,
      checkpoint.hash,
      checkpoint.at,
      checkpoint.keyId,
      checkpoint.signature,
    ]);
  }

  async list(): Promise<SignedCheckpoint[]> {
    const { rows } = await this.db.query<BigintAsString<SignedCheckpoint, 'seq'>>(`SELECT ${CHECKPOINT_COLUMNS} FROM audit_checkpoints ORDER BY seq`);
    return rows.map((row) => ({ ...row, seq: Number(row.seq) }));
  }

  async latest(): Promise<SignedCheckpoint | undefined> {
    const { rows } = await this.db.query<BigintAsString<SignedCheckpoint, 'seq'>>(`SELECT ${CHECKPOINT_COLUMNS} FROM audit_checkpoints ORDER BY seq DESC LIMIT 1`);
    return rows[0] && { ...rows[0], seq: Number(rows[0].seq) };
  }

  async prunes(): Promise<SignedPrune[]> {
    const { rows } = await this.db.query<BigintAsString<SignedPrune, 'floorSeq'>>(
      'SELECT floor_seq AS "floorSeq", pruned_at AS at, key_id AS "keyId", signature FROM audit_prunes ORDER BY floor_seq',
    );
    return rows.map((row) => ({ ...row, floorSeq: Number(row.floorSeq) }));
  }
}

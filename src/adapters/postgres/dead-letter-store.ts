import { newDeadLetterId, type DeadLetter, type DeadLetterChange, type DeadLetterStatus, type DeadLetterStore, type NewDeadLetter } from '../../ports/dead-letter-store.js';
import { deadLetterOf, INSERT_COLUMNS, insertValues, transitionSql, transitionValues, type DeadLetterRow } from '../dead-letter-row.js';
import type { PostgresDatabase } from './database.js';

type StoredRow = Omit<DeadLetterRow, 'created_at' | 'settled_at'> & { created_at: Date; settled_at: Date | null };

const TRANSITION = transitionSql((n) => `$${n}`);

/** The dead-letter table in PostgreSQL; every status change is a compare-and-set on status. */
export class PostgresDeadLetterStore implements DeadLetterStore {
  constructor(private readonly db: PostgresDatabase) {}

  async add(letter: NewDeadLetter, id = newDeadLetterId()): Promise<DeadLetter> {
    const values = insertValues(id, letter);
    const placeholders = values.map((_, index) => `$${index + 1}`).join(', ');
    const { rows } = await this.db.query<StoredRow>(`INSERT INTO dead_letters (${INSERT_COLUMNS}) VALUES (${placeholders}) RETURNING *`, values);
    return fromRow(rows[0]!);
  }

  async get(id: string): Promise<DeadLetter | undefined> {
    const { rows } = await this.db.query<StoredRow>('SELECT * FROM dead_letters WHERE id = $1', [id]);
    return rows[0] && fromRow(rows[0]);
  }

  async list(filter: { status?: DeadLetterStatus; limit?: number } = {}): Promise<DeadLetter[]> {
    const { rows } = await this.db.query<StoredRow>(
      `SELECT * FROM dead_letters WHERE ($1::text IS NULL OR status = $1) ORDER BY created_at DESC, ord DESC LIMIT $2`,
      [filter.status ?? null, filter.limit ?? 1000],
    );
    return rows.map(fromRow);
  }

  async transition(id: string, from: DeadLetterStatus, to: DeadLetterStatus, change: DeadLetterChange): Promise<boolean> {
    const { rowCount } = await this.db.query(TRANSITION, transitionValues(id, from, to, change));
    return rowCount === 1;
  }
}

function fromRow(row: StoredRow): DeadLetter {
  return deadLetterOf({ ...row, created_at: row.created_at.toISOString(), settled_at: row.settled_at?.toISOString() ?? null });
}

import { newDeadLetterId, type DeadLetter, type DeadLetterChange, type DeadLetterStatus, type DeadLetterStore, type NewDeadLetter } from '../../ports/dead-letter-store.js';
import { deadLetterOf, INSERT_COLUMNS, insertValues, transitionSql, transitionValues, type DeadLetterRow } from '../dead-letter-row.js';
import type { SqliteDatabase } from './database.js';

type StoredRow = Omit<DeadLetterRow, 'payload' | 'error'> & { payload: string; error: string };

/** The dead-letter table in SQLite; every status change is a compare-and-set on status. */
export class SqliteDeadLetterStore implements DeadLetterStore {
  private readonly insertStmt;
  private readonly getStmt;
  private readonly listAll;
  private readonly listByStatus;
  private readonly transitionStmt;

  constructor(db: SqliteDatabase) {
    this.insertStmt = db.prepare(`INSERT INTO dead_letters (${INSERT_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING *`);
    this.getStmt = db.prepare('SELECT * FROM dead_letters WHERE id = ?');
    // rowid breaks ties between letters of the same millisecond: the later one is newer.
    this.listAll = db.prepare('SELECT * FROM dead_letters ORDER BY created_at DESC, rowid DESC LIMIT ?');
    this.listByStatus = db.prepare('SELECT * FROM dead_letters WHERE status = ? ORDER BY created_at DESC, rowid DESC LIMIT ?');
    this.transitionStmt = db.prepare(transitionSql(() => '?'));
  }

  async add(letter: NewDeadLetter, id = newDeadLetterId()): Promise<DeadLetter> {
    return fromRow(this.insertStmt.get(...insertValues(id, letter)) as StoredRow);
  }

  async get(id: string): Promise<DeadLetter | undefined> {
    const row = this.getStmt.get(id) as StoredRow | undefined;
    return row && fromRow(row);
  }

  async list(filter: { status?: DeadLetterStatus; limit?: number } = {}): Promise<DeadLetter[]> {
    const limit = filter.limit ?? 1000;
    const rows = (filter.status ? this.listByStatus.all(filter.status, limit) : this.listAll.all(limit)) as StoredRow[];
    return rows.map(fromRow);
  }

  async transition(id: string, from: DeadLetterStatus, to: DeadLetterStatus, change: DeadLetterChange): Promise<boolean> {
    return this.transitionStmt.run(...transitionValues(id, from, to, change)).changes === 1;
  }
}

function fromRow(row: StoredRow): DeadLetter {
  return deadLetterOf({ ...row, payload: JSON.parse(row.payload) as Record<string, unknown>, error: JSON.parse(row.error) as DeadLetterRow['error'] });
}

import { randomBytes } from 'node:crypto';
import type { NewReviewItem, ReviewItem, ReviewStore } from '../../ports/review-store.js';
import type { SqliteDatabase } from './database.js';

interface ReviewRow {
  id: string;
  at: string;
  agent: string;
  profile: string;
  server: string;
  tool: string;
  arguments: string;
  outcome: string;
  summary: string;
  acked_at: string | null;
  acked_by: string | null;
}

/** The review queue of G1 calls in SQLite; acknowledging is a compare-and-set on acked_at. */
export class SqliteReviewStore implements ReviewStore {
  private readonly insertStmt;
  private readonly getStmt;
  private readonly listAll;
  private readonly listPending;
  private readonly ackStmt;

  constructor(db: SqliteDatabase) {
    this.insertStmt = db.prepare(
      `INSERT INTO review_items (id, at, agent, profile, server, tool, arguments, outcome, summary)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
       RETURNING *`,
    );
    this.getStmt = db.prepare('SELECT * FROM review_items WHERE id = ?');
    // rowid breaks ties between items of the same millisecond: the later insert is newer.
    this.listAll = db.prepare('SELECT * FROM review_items ORDER BY at DESC, rowid DESC LIMIT ?');
    this.listPending = db.prepare('SELECT * FROM review_items WHERE acked_at IS NULL ORDER BY at DESC, rowid DESC LIMIT ?');
    this.ackStmt = db.prepare('UPDATE review_items SET acked_at = ?, acked_by = ? WHERE id = ? AND acked_at IS NULL RETURNING *');
  }

  async add(item: NewReviewItem): Promise<ReviewItem> {
    const id = `rev_${randomBytes(8).toString('hex')}`;
    const row = this.insertStmt.get(
      id,
      item.at,
      item.agent,
      item.profile,
      item.server,
      item.tool,
      JSON.stringify(item.arguments),
      item.outcome,
      item.summary,
    ) as ReviewRow;
    return fromRow(row);
  }

  async get(id: string): Promise<ReviewItem | undefined> {
    const row = this.getStmt.get(id) as ReviewRow | undefined;
    return row && fromRow(row);
  }

  async list(filter: { pending?: boolean; limit?: number } = {}): Promise<ReviewItem[]> {
    const limit = filter.limit ?? -1;
    return ((filter.pending ? this.listPending : this.listAll).all(limit) as ReviewRow[]).map(fromRow);
  }

  async ack(id: string, by: string, at: string): Promise<ReviewItem | undefined> {
    const row = this.ackStmt.get(at, by, id) as ReviewRow | undefined;
    return row && fromRow(row);
  }
}

function fromRow(row: ReviewRow): ReviewItem {
  const item: ReviewItem = {
    id: row.id,
    at: row.at,
    agent: row.agent,
    profile: row.profile,
    server: row.server,
    tool: row.tool,
    arguments: JSON.parse(row.arguments) as Record<string, unknown>,
    outcome: row.outcome,
    summary: row.summary,
  };
  // Absent rather than undefined, so that items compare equal however they were built.
  if (row.acked_at !== null) item.ackedAt = row.acked_at;
  if (row.acked_by !== null) item.ackedBy = row.acked_by;
  return item;
}

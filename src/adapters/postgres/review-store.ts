import { randomBytes } from 'node:crypto';
import type { NewReviewItem, ReviewItem, ReviewStore } from '../../ports/review-store.js';
import type { PostgresDatabase } from './database.js';

interface ReviewRow {
  id: string;
  at: Date;
  agent: string;
  profile: string;
  server: string;
  tool: string;
  arguments: Record<string, unknown>;
  outcome: string;
  summary: string;
  acked_at: Date | null;
  acked_by: string | null;
}

/** The review queue of G1 calls in PostgreSQL; acknowledging is a compare-and-set on acked_at. */
export class PostgresReviewStore implements ReviewStore {
  constructor(private readonly db: PostgresDatabase) {}

  async add(item: NewReviewItem): Promise<ReviewItem> {
    const id = `rev_${randomBytes(8).toString('hex')}`;
    const { rows } = await this.db.query<ReviewRow>(
      `INSERT INTO review_items (id, at, agent, profile, server, tool, arguments, outcome, summary)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
       RETURNING *`,
      [id, item.at, item.agent, item.profile, item.server, item.tool, JSON.stringify(item.arguments), item.outcome, item.summary],
    );
    return fromRow(rows[0]!);
  }

  async get(id: string): Promise<ReviewItem | undefined> {
    const { rows } = await this.db.query<ReviewRow>('SELECT * FROM review_items WHERE id = $1', [id]);
    return rows[0] && fromRow(rows[0]);
  }

  async list(filter: { pending?: boolean; limit?: number } = {}): Promise<ReviewItem[]> {
    const { rows } = await this.db.query<ReviewRow>(
      `SELECT * FROM review_items ${filter.pending ? 'WHERE acked_at IS NULL' : ''} ORDER BY at DESC, ord DESC LIMIT $1`,
      [filter.limit ?? null],
    );
    return rows.map(fromRow);
  }

  async ack(id: string, by: string, at: string): Promise<ReviewItem | undefined> {
    const { rows } = await this.db.query<ReviewRow>('UPDATE review_items SET acked_at = $1, acked_by = $2 WHERE id = $3 AND acked_at IS NULL RETURNING *', [at, by, id]);
    return rows[0] && fromRow(rows[0]);
  }
}

function fromRow(row: ReviewRow): ReviewItem {
  const item: ReviewItem = {
    id: row.id,
    at: row.at.toISOString(),
    agent: row.agent,
    profile: row.profile,
    server: row.server,
    tool: row.tool,
    arguments: row.arguments,
    outcome: row.outcome,
    summary: row.summary,
  };
  // Absent rather than undefined, so that items compare equal however they were built.
  if (row.acked_at !== null) item.ackedAt = row.acked_at.toISOString();
  if (row.acked_by !== null) item.ackedBy = row.acked_by;
  return item;
}

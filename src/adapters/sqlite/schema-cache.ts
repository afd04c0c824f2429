import type { SchemaCache, ServerListing } from '../../ports/schema-cache.js';
import type { SqliteDatabase } from './database.js';

/** Schema cache rows, with an in-memory copy so that listing never re-parses JSON on the hot path. */
export class SqliteSchemaCache implements SchemaCache {
  private readonly memory = new Map<string, ServerListing>();

  constructor(private readonly db: SqliteDatabase) {}

  get(server: string): ServerListing | undefined {
    const hit = this.memory.get(server);
    if (hit) return hit;
    const row = this.db.prepare('SELECT listing FROM schema_cache WHERE server = ?').get(server) as { listing: string } | undefined;
    if (!row) return undefined;
    const listing = JSON.parse(row.listing) as ServerListing;
    this.memory.set(server, listing);
    return listing;
  }

  put(server: string, listing: ServerListing): void {
    this.db
      .prepare(
        `INSERT INTO schema_cache (server, listing, listed_at, source) VALUES (?, ?, ?, ?)
         ON CONFLICT (server) DO UPDATE SET listing = excluded.listing, listed_at = excluded.listed_at, source = excluded.source`,
      )
      .run(server, JSON.stringify(listing), listing.listedAt, listing.source);
    this.memory.set(server, listing);
  }

  servers(): string[] {
    return this.db.prepare('SELECT server FROM schema_cache ORDER BY server').pluck().all() as string[];
  }
}

import type { SchemaCache, ServerListing } from '../../ports/schema-cache.js';
import type { SqliteDatabase } from './database.js';

/** Schema cache rows. The gateway keeps its own in-memory copy (Catalog), so this is read once per server. */
export class SqliteSchemaCache implements SchemaCache {
  private readonly getStmt;
  private readonly putStmt;
  private readonly serversStmt;

  constructor(db: SqliteDatabase) {
    this.getStmt = db.prepare('SELECT listing FROM schema_cache WHERE server = ?').pluck();
    this.putStmt = db.prepare(
      `INSERT INTO schema_cache (server, listing, listed_at, source) VALUES (?, ?, ?, ?)
       ON CONFLICT (server) DO UPDATE SET listing = excluded.listing, listed_at = excluded.listed_at, source = excluded.source`,
    );
    this.serversStmt = db.prepare('SELECT server FROM schema_cache ORDER BY server').pluck();
  }

  async get(server: string): Promise<ServerListing | undefined> {
    const listing = this.getStmt.get(server) as string | undefined;
    return listing === undefined ? undefined : (JSON.parse(listing) as ServerListing);
  }

  async put(server: string, listing: ServerListing): Promise<void> {
    this.putStmt.run(server, JSON.stringify(listing), listing.listedAt, listing.source);
  }

  async servers(): Promise<string[]> {
    return this.serversStmt.all() as string[];
  }
}

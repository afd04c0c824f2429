import type { SchemaCache, ServerListing } from '../../ports/schema-cache.js';
import type { PostgresDatabase } from './database.js';

/** Schema cache rows. The gateway keeps its own in-memory copy (Catalog), so this is read once per server. */
export class PostgresSchemaCache implements SchemaCache {
  constructor(private readonly db: PostgresDatabase) {}

  async get(server: string): Promise<ServerListing | undefined> {
    const { rows } = await this.db.query<{ listing: ServerListing }>('SELECT listing FROM schema_cache WHERE server = $1', [server]);
    return rows[0]?.listing;
  }

  async put(server: string, listing: ServerListing): Promise<void> {
    await this.db.query(
      `INSERT INTO schema_cache (server, listing, listed_at, source) VALUES ($1, $2, $3, $4)
       ON CONFLICT (server) DO UPDATE SET listing = excluded.listing, listed_at = excluded.listed_at, source = excluded.source`,
      [server, JSON.stringify(listing), listing.listedAt, listing.source],
    );
  }

  async servers(): Promise<string[]> {
    const { rows } = await this.db.query<{ server: string }>('SELECT server FROM schema_cache ORDER BY server');
    return rows.map((row) => row.server);
  }
}

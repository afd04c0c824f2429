import type { KeyStore } from '../../ports/key-store.js';
import type { SqliteDatabase } from './database.js';

export class SqliteKeyStore implements KeyStore {
  constructor(private readonly db: SqliteDatabase) {}

  async key(name: string, create: () => Buffer): Promise<Buffer> {
    // INSERT OR IGNORE: when two processes race, both read back the one key that won.
    this.db.prepare('INSERT OR IGNORE INTO gateway_keys (name, key, created_at) VALUES (?, ?, ?)').run(name, create(), new Date().toISOString());
    return this.db.prepare('SELECT key FROM gateway_keys WHERE name = ?').pluck().get(name) as Buffer;
  }
}

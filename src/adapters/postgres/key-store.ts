import type { KeyStore } from '../../ports/key-store.js';
import type { PostgresDatabase } from './database.js';

export class PostgresKeyStore implements KeyStore {
  constructor(private readonly db: PostgresDatabase) {}

  async key(name: string, create: () => Buffer): Promise<Buffer> {
    // ON CONFLICT DO NOTHING: when two gateways race, both read back the one key that won.
    await this.db.query('INSERT INTO gateway_keys (name, key, created_at) VALUES ($1, $2, now()) ON CONFLICT (name) DO NOTHING', [name, create()]);
    const { rows } = await this.db.query<{ key: Buffer }>('SELECT key FROM gateway_keys WHERE name = $1', [name]);
    return rows[0]!.key;
  }
}

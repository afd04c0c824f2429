import type { Logger } from 'pino';
import { openSqlite, type SqliteDatabase } from './adapters/sqlite/database.js';
import { SqliteEventStore } from './adapters/sqlite/event-store.js';
import { SqliteSchemaCache } from './adapters/sqlite/schema-cache.js';
import type { GatehouseConfig } from './config/load.js';
import { Gateway } from './gateway/gateway.js';

/** Opens the configured store and builds a gateway on it: the one place adapters are chosen. */
export function openGateway(config: GatehouseConfig, env: NodeJS.ProcessEnv, log: Logger): { gateway: Gateway; close: () => Promise<void> } {
  const db: SqliteDatabase = openSqlite(config.store.path);
  const gateway = new Gateway(config, { events: new SqliteEventStore(db), cache: new SqliteSchemaCache(db) }, log, env);
  return {
    gateway,
    close: async () => {
      await gateway.close();
      gateway.audit.flush(); // anything recorded while the servers stopped
      db.close();
    },
  };
}

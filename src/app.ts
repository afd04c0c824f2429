import type { Logger } from 'pino';
import { openSqlite } from './adapters/sqlite/database.js';
import { SqliteEventStore } from './adapters/sqlite/event-store.js';
import { SqliteSchemaCache } from './adapters/sqlite/schema-cache.js';
import { SqliteApprovalStore } from './adapters/sqlite/approval-store.js';
import { SqliteIdempotencyLedger } from './adapters/sqlite/idempotency-ledger.js';
import { SqliteReviewStore } from './adapters/sqlite/review-store.js';
import { SqlitePinStore } from './adapters/sqlite/pin-store.js';
import { SqliteKeyStore } from './adapters/sqlite/key-store.js';
import type { GatehouseConfig } from './config/load.js';
import { Gateway, type GatewayOptions, type GatewayStores } from './gateway/gateway.js';

/** Opens the configured store: the one place adapters are chosen. */
export function openStores(config: GatehouseConfig): { stores: GatewayStores; close: () => void } {
  const db = openSqlite(config.store.path);
  return {
    stores: {
      events: new SqliteEventStore(db),
      cache: new SqliteSchemaCache(db),
      approvals: new SqliteApprovalStore(db),
      ledger: new SqliteIdempotencyLedger(db),
      reviews: new SqliteReviewStore(db),
      pins: new SqlitePinStore(db),
      keys: new SqliteKeyStore(db),
    },
    close: () => db.close(),
  };
}

/** Opens the configured store and builds a gateway on it. */
export function openGateway(
  config: GatehouseConfig,
  env: NodeJS.ProcessEnv,
  log: Logger,
  options: GatewayOptions = {},
): { gateway: Gateway; close: () => Promise<void> } {
  const { stores, close } = openStores(config);
  const gateway = new Gateway(config, stores, log, env, options);
  return {
    gateway,
    close: async () => {
      await gateway.close();
      gateway.audit.flush(); // anything recorded while the servers stopped
      close();
    },
  };
}

import type { Logger } from 'pino';
import { openSqlite } from './adapters/sqlite/database.js';
import { SqliteEventStore } from './adapters/sqlite/event-store.js';
import { SqliteSchemaCache } from './adapters/sqlite/schema-cache.js';
import { SqliteApprovalStore } from './adapters/sqlite/approval-store.js';
import { SqliteIdempotencyLedger } from './adapters/sqlite/idempotency-ledger.js';
import { SqliteReviewStore } from './adapters/sqlite/review-store.js';
import { SqlitePinStore } from './adapters/sqlite/pin-store.js';
import { SqliteKeyStore } from './adapters/sqlite/key-store.js';
import { SqliteCheckpointStore } from './adapters/sqlite/checkpoint-store.js';
import { SqliteAuditArchive } from './adapters/sqlite/audit-archive.js';
import { SqliteRunsStore } from './adapters/sqlite/runs-store.js';
import { openSigningKey } from './adapters/fs/audit-signing-key.js';
import type { GatehouseConfig } from './config/load.js';
import { Gateway, type GatewayStores } from './gateway/gateway.js';

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
      checkpoints: new SqliteCheckpointStore(db),
      archive: new SqliteAuditArchive(db),
      runs: new SqliteRunsStore(db),
    },
    close: () => db.close(),
  };
}

/** Opens the configured store and builds a gateway on it. */
export function openGateway(config: GatehouseConfig, env: NodeJS.ProcessEnv, log: Logger): { gateway: Gateway; close: () => Promise<void> } {
  const { stores, close } = openStores(config);
  const gateway = new Gateway(config, stores, log, env, { signer: openSigningKey(config.audit.signingKeyFile) });
  return {
    gateway,
    close: async () => {
      await gateway.close();
      gateway.audit.flush(); // anything recorded while the servers stopped
      await gateway.checkpointer?.close(); // signs the chain as this process leaves it
      await gateway.runsRefresher.close();
      close();
    },
  };
}

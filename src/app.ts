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
import { SqliteDeadLetterStore } from './adapters/sqlite/dead-letter-store.js';
import { SqliteProcessRegistry } from './adapters/sqlite/process-registry.js';
import { openSigningKey } from './adapters/fs/audit-signing-key.js';
import { DeadLetterFile } from './adapters/fs/dead-letter-file.js';
import { AUDIT_DEFAULTS } from './config/schema.js';
import type { GatehouseConfig } from './config/load.js';
import { Gateway, type GatewayOptions, type GatewayStores } from './gateway/gateway.js';

/** Open stores and how to close them (after every write made through them has completed). */
export interface OpenStores {
  stores: GatewayStores;
  close: () => Promise<void>;
}

/**
 * Opens the configured store (`config.store`): the one place adapters are chosen. Dead letters
 * the store refuses go to `deadLetterFile` (`audit.deadLetterFile`).
 */
export async function openStores(store: GatehouseConfig['store'], deadLetterFile = AUDIT_DEFAULTS.deadLetterFile): Promise<OpenStores> {
  const fallback = new DeadLetterFile(deadLetterFile);
  if (store.kind === 'postgres') {
    const postgres = await import('./adapters/postgres/index.js');
    const db = await postgres.PostgresDatabase.open(store.url, { poolSize: store.poolSize, durability: store.durability });
    return {
      stores: {
        events: new postgres.PostgresEventStore(db),
        cache: new postgres.PostgresSchemaCache(db),
        approvals: new postgres.PostgresApprovalStore(db),
        ledger: new postgres.PostgresIdempotencyLedger(db),
        reviews: new postgres.PostgresReviewStore(db),
        pins: new postgres.PostgresPinStore(db),
        keys: new postgres.PostgresKeyStore(db),
        deadLetters: new postgres.PostgresDeadLetterStore(db),
        deadLetterFile: fallback,
        checkpoints: new postgres.PostgresCheckpointStore(db),
        archive: new postgres.PostgresAuditArchive(db),
        runs: new postgres.PostgresRunsStore(db),
        processes: new postgres.PostgresProcessRegistry(db),
      },
      close: () => db.close(),
    };
  }
  const db = openSqlite(store.path, { durability: store.durability });
  const events = new SqliteEventStore(db);
  return {
    stores: {
      events,
      cache: new SqliteSchemaCache(db),
      approvals: new SqliteApprovalStore(db),
      ledger: new SqliteIdempotencyLedger(db),
      reviews: new SqliteReviewStore(db),
      pins: new SqlitePinStore(db),
      keys: new SqliteKeyStore(db),
      deadLetters: new SqliteDeadLetterStore(db),
      deadLetterFile: fallback,
      checkpoints: new SqliteCheckpointStore(db),
      archive: new SqliteAuditArchive(db),
      runs: new SqliteRunsStore(db),
      processes: new SqliteProcessRegistry(db),
    },
    close: async () => {
      events.closeJournal();
      db.close();
    },
  };
}

/** Opens the configured store and builds a gateway on it. */
export async function openGateway(
  config: GatehouseConfig,
  env: NodeJS.ProcessEnv,
  log: Logger,
  options: GatewayOptions = {},
): Promise<{ gateway: Gateway; close: () => Promise<void> }> {
  const { stores, close } = await openStores(config.store, config.audit.deadLetterFile);
  let gateway: Gateway;
  try {
    gateway = await Gateway.open(config, stores, log, env, { ...options, signer: openSigningKey(config.audit.signingKeyFile) });
  } catch (error) {
    await close();
    throw error;
  }
  return {
    gateway,
    close: async () => {
      await gateway.close();
      await gateway.audit.flush(); // anything recorded while the servers stopped
      await gateway.checkpointer?.close(); // signs the chain as this process leaves it
      await gateway.runsRefresher.close();
      await close();
    },
  };
}

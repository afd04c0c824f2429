// The PostgreSQL adapters, loaded by app.ts only when the config asks for them (a gateway on
// SQLite never evaluates the driver).
export { PostgresDatabase } from './database.js';
export { PostgresEventStore } from './event-store.js';
export { PostgresSchemaCache } from './schema-cache.js';
export { PostgresApprovalStore } from './approval-store.js';
export { PostgresIdempotencyLedger } from './idempotency-ledger.js';
export { PostgresReviewStore } from './review-store.js';
export { PostgresPinStore } from './pin-store.js';
export { PostgresKeyStore } from './key-store.js';
export { PostgresDeadLetterStore } from './dead-letter-store.js';
export { PostgresCheckpointStore } from './checkpoint-store.js';
export { PostgresAuditArchive } from './audit-archive.js';
export { PostgresRunsStore } from './runs-store.js';
export { PostgresProcessRegistry } from './process-registry.js';

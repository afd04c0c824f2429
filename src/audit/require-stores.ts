import { GatehouseError } from '../core/errors.js';
import type { GatewayStores } from '../gateway/gateway.js';
import type { AuditArchive } from '../ports/audit-archive.js';
import type { CheckpointStore } from '../ports/checkpoint-store.js';
import type { RunsStore } from '../ports/runs-store.js';

/** The audit ports a command needs, or a clear error when the configured adapter has none yet. */
export function auditStores(stores: GatewayStores, command: string): GatewayStores & { checkpoints: CheckpointStore; archive: AuditArchive } {
  if (!stores.checkpoints || !stores.archive) {
    throw new GatehouseError('GH_STORE_FEATURE_MISSING', `${command} needs audit checkpoints and the event archive, which only the SQLite store has so far`);
  }
  return stores as GatewayStores & { checkpoints: CheckpointStore; archive: AuditArchive };
}

/** The runs view, or a clear error when the configured adapter has none yet. */
export function runsStore(stores: GatewayStores): RunsStore {
  if (!stores.runs) throw new GatehouseError('GH_STORE_FEATURE_MISSING', 'gatehouse runs needs the runs view, which only the SQLite store has so far');
  return stores.runs;
}

import { AuditVerifier, type AuditReport, type SourcedCheckpoint } from '../core/audit-verifier.js';
import type { TrustedKeys } from '../core/checkpoint.js';
import type { AuditArchive } from '../ports/audit-archive.js';
import type { CheckpointStore } from '../ports/checkpoint-store.js';
import type { EventStore } from '../ports/event-store.js';

/** The audit ports of a store that has them all (SQLite, so far). */
export interface AuditStores {
  checkpoints: CheckpointStore;
  archive: AuditArchive;
}

/** A store without checkpoints and archive (PostgreSQL, so far) is verified by its chain alone. */
export type VerifiableStores = Partial<AuditStores> & { events?: EventStore };

/**
 * Verifies the whole stored chain: hashes and links, the signatures of the store's checkpoints
 * and prunes, and `external` checkpoints kept elsewhere (which catch a truncated tail even when
 * the store's own checkpoints were removed with it).
 */
export async function verifyStore(stores: VerifiableStores, keys: TrustedKeys, external: readonly SourcedCheckpoint[] = []): Promise<AuditReport> {
  const stored = stores.checkpoints ? (await stores.checkpoints.list()).map((checkpoint) => ({ ...checkpoint, source: 'store' })) : [];
  const prunes = stores.checkpoints ? await stores.checkpoints.prunes() : [];
  const verifier = new AuditVerifier({ keys, checkpoints: [...stored, ...external], prunes, mode: 'store' });
  const events = stores.archive?.events() ?? stores.events?.chain();
  if (!events) throw new Error('verifyStore needs the audit archive or the event store');
  for await (const event of events) if (!verifier.next(event)) break;
  return verifier.finish();
}

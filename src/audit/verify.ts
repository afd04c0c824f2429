import { AuditVerifier, type AuditReport, type SourcedCheckpoint } from '../core/audit-verifier.js';
import type { TrustedKeys } from '../core/checkpoint.js';
import type { AuditArchive } from '../ports/audit-archive.js';
import type { CheckpointStore } from '../ports/checkpoint-store.js';

/** The audit ports verify, export and prune work on. */
export interface AuditStores {
  checkpoints: CheckpointStore;
  archive: AuditArchive;
}

/**
 * Verifies the whole stored chain: hashes and links, the signatures of the store's checkpoints
 * and prunes, and `external` checkpoints kept elsewhere (which catch a truncated tail even when
 * the store's own checkpoints were removed with it).
 */
export async function verifyStore(stores: AuditStores, keys: TrustedKeys, external: readonly SourcedCheckpoint[] = []): Promise<AuditReport> {
  const stored = (await stores.checkpoints.list()).map((checkpoint) => ({ ...checkpoint, source: 'store' }));
  const prunes = await stores.checkpoints.prunes();
  const verifier = new AuditVerifier({ keys, checkpoints: [...stored, ...external], prunes, mode: 'store' });
  for await (const event of stores.archive.events()) if (!verifier.next(event)) break;
  return verifier.finish();
}

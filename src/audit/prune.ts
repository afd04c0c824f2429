import { describeProblem } from '../core/audit-verifier.js';
import { signCheckpoint, signPrune, type AuditSigner, type TrustedKeys } from '../core/checkpoint.js';
import { GatehouseError } from '../core/errors.js';
import type { GatehouseEvent } from '../core/events.js';
import { retentionCutoffs, type RetentionPolicy } from '../core/retention.js';
import type { RetainedEvent } from '../ports/audit-archive.js';
import { verifyStore, type AuditStores } from './verify.js';

export interface PruneOptions {
  now: Date;
  by: string;
  dryRun: boolean;
}

export interface PruneOutcome {
  /** Events up to here are (or, in a dry run, would be) deleted; undefined when nothing is expired. */
  floorSeq: number | undefined;
  deleted: number;
  /** The oldest event still within its retention: nothing after it can be deleted yet. */
  heldBackBy: RetainedEvent | undefined;
  /** The previous prune's floor, when there was one. */
  previousFloor: number | undefined;
}

/**
 * `gatehouse audit prune`. The chain is cut as a prefix only: up to the event before the oldest
 * one still within its retention (per type), at a checkpoint signed for exactly that event, with
 * a signed prune record, so that the remaining chain verifies from there. A chain that does not
 * verify is left alone (deleting it would destroy the evidence). The prune itself is recorded as
 * an `audit.pruned` event, and a checkpoint covers it.
 */
export async function pruneExpired(
  stores: AuditStores & { append: (event: GatehouseEvent) => unknown },
  signer: AuditSigner,
  keys: TrustedKeys,
  retention: RetentionPolicy,
  options: PruneOptions,
): Promise<PruneOutcome> {
  const report = await verifyStore(stores, keys);
  if (report.problem) {
    throw new GatehouseError('GH_AUDIT_CHAIN_BROKEN', `the audit chain is broken at event ${report.problem.seq}: ${describeProblem(report.problem)}; nothing was pruned`, {
      problem: report.problem,
    });
  }
  const previousFloor = report.prunedThrough;
  const heldBackBy = await stores.archive.firstRetained(retentionCutoffs(retention, options.now));
  const floorSeq = heldBackBy ? heldBackBy.seq - 1 : report.lastSeq;
  if (floorSeq === undefined || floorSeq <= (previousFloor ?? 0) || floorSeq < (report.firstSeq ?? 1)) {
    return { floorSeq: undefined, deleted: 0, heldBackBy, previousFloor };
  }
  const last = await lastEvent(stores, floorSeq);
  if (options.dryRun) return { floorSeq, deleted: floorSeq - (previousFloor ?? 0), heldBackBy, previousFloor };
  const at = options.now.toISOString();
  await stores.checkpoints.add(signCheckpoint({ seq: floorSeq, hash: last }, at, signer));
  const deleted = await stores.archive.prune(signPrune(floorSeq, at, signer), options.by);
  await stores.append({
    type: 'audit.pruned',
    at,
    payload: { floorSeq, deleted, by: options.by, heldBackBy: heldBackBy ? { seq: heldBackBy.seq, type: heldBackBy.type, at: heldBackBy.at } : null },
  });
  const head = await stores.checkpoints.head();
  if (head) await stores.checkpoints.add(signCheckpoint(head, new Date().toISOString(), signer));
  return { floorSeq, deleted, heldBackBy, previousFloor };
}

async function lastEvent(stores: AuditStores, seq: number): Promise<string> {
  for await (const event of stores.archive.events({ afterSeq: seq - 1, throughSeq: seq })) {
    if (event.hash) return event.hash;
  }
  throw new GatehouseError('GH_AUDIT_CHAIN_BROKEN', `event ${seq} has no hash (it predates the chain); prune cannot anchor there`, { seq });
}

import type { SignedCheckpoint, SignedPrune, TrustedKeys } from './checkpoint.js';
import { ChainVerifier, type ChainedEvent, type ChainProblem, type ChainReport } from './event-chain.js';

/** A checkpoint and where the verifier got it: `store`, `export`, or the file passed with --checkpoint. */
export interface SourcedCheckpoint extends SignedCheckpoint {
  source: string;
}

export type AuditProblem =
  | ChainProblem
  | { kind: 'bad-signature'; seq: number; what: 'checkpoint' | 'prune'; source: string }
  | { kind: 'unknown-key'; seq: number; what: 'checkpoint' | 'prune'; keyId: string; source: string }
  /** A signed checkpoint says the event at `seq` has another hash: the log was rewritten up to here. */
  | { kind: 'checkpoint-mismatch'; seq: number; source: string; lastGoodCheckpoint: number | undefined }
  /** Events `seq`… are gone although a signed checkpoint vouches for them up to `checkpointSeq`. */
  | { kind: 'truncated'; seq: number; checkpointSeq: number; source: string }
  /** An export's events from `seq` on are not covered by a signed checkpoint. */
  | { kind: 'unsigned-tail'; seq: number };

export interface AuditReport extends Omit<ChainReport, 'problem'> {
  /** Checkpoints whose signature checked out and whose event was present with that hash. */
  checkpointsMatched: number;
  /** The highest signed checkpoint seen (any source), whether or not its event is still stored. */
  latestCheckpoint: number | undefined;
  /** Events up to here were deleted by a signed prune. */
  prunedThrough: number | undefined;
  problem: AuditProblem | undefined;
}

export interface AuditVerifierOptions {
  keys: TrustedKeys;
  checkpoints: readonly SourcedCheckpoint[];
  prunes?: readonly SignedPrune[];
  /**
   * `store`: the chain starts at the genesis or right after a signed prune. `export`: it may start
   * anywhere, but its last event must be a signed checkpoint (that is what vouches for the file).
   */
  mode: 'store' | 'export';
}

/**
 * The hash chain plus its signatures: every checkpoint and prune record must be signed by a
 * trusted key, every checkpoint must match the event at its seq (or lie in the pruned part),
 * and no checkpoint may lie beyond the last event (truncation). Feed events in seq order with
 * `next`, then call `finish`. The problem reported is the one at the lowest position.
 */
export class AuditVerifier {
  private readonly chain: ChainVerifier;
  private readonly bySeq = new Map<number, SourcedCheckpoint[]>();
  private readonly valid: SourcedCheckpoint[] = [];
  private readonly upfront: AuditProblem[] = [];
  private readonly prunedThrough: number | undefined;
  private walkProblem: AuditProblem | undefined;
  private matched = 0;
  private lastGood: number | undefined;
  private lastEventSeq: number | undefined;
  private seenFirst = false;
  /** The walk stopped past a signature problem found up front: the end of the log was not reached. */
  private stoppedEarly = false;

  constructor(private readonly options: AuditVerifierOptions) {
    for (const checkpoint of options.checkpoints) {
      const check = options.keys.checkCheckpoint(checkpoint);
      if (check === 'ok') {
        this.valid.push(checkpoint);
        this.bySeq.set(checkpoint.seq, [...(this.bySeq.get(checkpoint.seq) ?? []), checkpoint]);
      } else this.upfront.push(signatureProblem(check, checkpoint.seq, 'checkpoint', checkpoint.keyId, checkpoint.source));
    }
    const anchors = new Map<number, string>();
    let prunedThrough: number | undefined;
    for (const prune of options.prunes ?? []) {
      const check = options.keys.checkPrune(prune);
      if (check !== 'ok') {
        this.upfront.push(signatureProblem(check, prune.floorSeq, 'prune', prune.keyId, 'store'));
        continue;
      }
      prunedThrough = Math.max(prunedThrough ?? 0, prune.floorSeq);
      const at = this.bySeq.get(prune.floorSeq)?.[0];
      if (at) anchors.set(prune.floorSeq, at.hash);
    }
    this.prunedThrough = prunedThrough;
    this.chain = new ChainVerifier({ open: options.mode === 'export', anchors });
  }

  /** Feeds the next event; false once the rest cannot change the answer. */
  next(event: ChainedEvent): boolean {
    if (this.walkProblem) return false;
    const earliest = lowest(this.upfront);
    if (earliest && event.seq > earliest.seq) {
      this.stoppedEarly = true;
      return false;
    }
    if (!this.seenFirst && event.hash !== null) {
      this.seenFirst = true;
      // The checkpoint right before the first event (a prune floor, or the start of an export) must be what it links to.
      for (const checkpoint of this.bySeq.get(event.seq - 1) ?? []) {
        if (event.prevHash !== checkpoint.hash) return this.fail({ kind: 'checkpoint-mismatch', seq: event.seq - 1, source: checkpoint.source, lastGoodCheckpoint: undefined });
      }
    }
    if (!this.chain.next(event)) return this.fail(this.chain.report().problem!);
    this.lastEventSeq = event.seq;
    const checkpoints = this.bySeq.get(event.seq);
    if (checkpoints) {
      for (const checkpoint of checkpoints) {
        if (event.hash !== checkpoint.hash) return this.fail({ kind: 'checkpoint-mismatch', seq: event.seq, source: checkpoint.source, lastGoodCheckpoint: this.lastGood });
      }
      this.matched += checkpoints.length;
      this.lastGood = event.seq;
    }
    return true;
  }

  finish(): AuditReport {
    const problems = [...this.upfront, ...(this.walkProblem ? [this.walkProblem] : [])];
    if (!this.walkProblem && !this.stoppedEarly) problems.push(...this.endProblems());
    const { problem: _chainProblem, ...chain } = this.chain.report();
    return {
      ...chain,
      checkpointsMatched: this.matched,
      latestCheckpoint: this.valid.reduce<number | undefined>((max, checkpoint) => Math.max(max ?? 0, checkpoint.seq), undefined),
      prunedThrough: this.prunedThrough,
      problem: lowest(problems),
    };
  }

  private endProblems(): AuditProblem[] {
    const end = Math.max(this.lastEventSeq ?? 0, this.prunedThrough ?? 0);
    const beyond = this.valid.filter((checkpoint) => checkpoint.seq > end).sort((a, b) => b.seq - a.seq)[0];
    if (beyond) return [{ kind: 'truncated', seq: end + 1, checkpointSeq: beyond.seq, source: beyond.source }];
    if (this.options.mode === 'export' && this.lastEventSeq !== undefined && this.lastGood !== this.lastEventSeq) {
      return [{ kind: 'unsigned-tail', seq: (this.lastGood ?? (this.chain.report().firstSeq ?? 1) - 1) + 1 }];
    }
    return [];
  }

  private fail(problem: AuditProblem): false {
    this.walkProblem = problem;
    return false;
  }
}

function signatureProblem(check: 'unknown-key' | 'bad-signature', seq: number, what: 'checkpoint' | 'prune', keyId: string, source: string): AuditProblem {
  return check === 'unknown-key' ? { kind: 'unknown-key', seq, what, keyId, source } : { kind: 'bad-signature', seq, what, source };
}

function lowest(problems: readonly AuditProblem[]): AuditProblem | undefined {
  return problems.reduce<AuditProblem | undefined>((first, problem) => (!first || problem.seq < first.seq ? problem : first), undefined);
}

/** One line for a person: what is wrong at the position named. */
export function describeProblem(problem: AuditProblem): string {
  switch (problem.kind) {
    case 'modified':
      return 'its content does not match its hash (the event was modified)';
    case 'broken-link':
      return 'it does not link to the event before it (an event was deleted, inserted or reordered)';
    case 'gap':
      return `expected event ${problem.expectedSeq} here (events were deleted)`;
    case 'unhashed':
      return 'it has no hash inside the chain (inserted by something other than Gatehouse)';
    case 'missing-start':
      return 'the chain starts here, but this event links neither to the genesis nor to a signed prune (the events before it were deleted)';
    case 'bad-signature':
      return `the ${problem.what} signature here does not verify (${problem.source}; forged or altered)`;
    case 'unknown-key':
      return `the ${problem.what} here is signed by key ${problem.keyId}, which is not trusted (${problem.source}; pass its public key with --public-key)`;
    case 'checkpoint-mismatch':
      return `a signed checkpoint (${problem.source}) vouches for another event here: the log was rewritten at or before this position${problem.lastGoodCheckpoint === undefined ? '' : ` (after the checkpoint at ${problem.lastGoodCheckpoint}, which matches)`}`;
    case 'truncated':
      return `events from here on are missing: a signed checkpoint (${problem.source}) vouches for the chain up to event ${problem.checkpointSeq}`;
    case 'unsigned-tail':
      return 'no signed checkpoint covers the events from here on (appended to the export, or its last checkpoint was cut off)';
  }
}

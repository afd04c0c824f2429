import { createHash } from 'node:crypto';
import type { GatehouseEvent, StoredEvent } from './events.js';

/** The stored form of an event, exactly as the chain hashes it. */
export interface ChainedFields {
  seq: number;
  type: string;
  at: string;
  agent: string | null;
  profile: string | null;
  server: string | null;
  tool: string | null;
  /** The payload as stored (JSON text): the bytes are hashed, so no canonical form is needed. */
  payload: string;
}

/** A stored event with its chain links (null for events written before the chain existed). */
export interface ChainedEvent extends ChainedFields {
  prevHash: string | null;
  hash: string | null;
}

/**
 * The rows that append `events` after the chain's current tail (`last`, undefined for an empty
 * store): numbered on from its seq, each linked to the hash before it. The caller must hold the
 * store's write lock from reading the tail until these rows are committed.
 */
export function extendChain(last: { seq: number; hash: string | null } | undefined, events: readonly GatehouseEvent[]): ChainedEvent[] {
  let seq = last?.seq ?? 0;
  let prevHash = last?.hash ?? GENESIS_HASH;
  return events.map((event) => {
    seq += 1;
    const fields: ChainedFields = {
      seq,
      type: event.type,
      at: event.at,
      agent: event.agent ?? null,
      profile: event.profile ?? null,
      server: event.server ?? null,
      tool: event.tool ?? null,
      payload: JSON.stringify(event.payload),
    };
    const hash = eventHash(prevHash, fields);
    const row = { ...fields, prevHash, hash };
    prevHash = hash;
    return row;
  });
}

/** A stored row as the event it records (absent fields for NULL columns, the payload parsed). */
export function storedEvent(row: ChainedFields): StoredEvent {
  return {
    seq: row.seq,
    type: row.type as StoredEvent['type'],
    at: row.at,
    agent: row.agent ?? undefined,
    profile: row.profile ?? undefined,
    server: row.server ?? undefined,
    tool: row.tool ?? undefined,
    payload: JSON.parse(row.payload) as Record<string, unknown>,
  };
}

/** The `prev_hash` of the first chained event. */
export const GENESIS_HASH = '0'.repeat(64);

/**
 * hash = SHA-256(prev_hash, then every stored field, each length-prefixed so that no two
 * different events can produce the same byte string). The sequence number is part of it, so a
 * deleted, inserted or reordered event breaks the chain as surely as an edited one.
 */
export function eventHash(prevHash: string, event: ChainedFields): string {
  const hash = createHash('sha256').update(prevHash);
  for (const field of [String(event.seq), event.type, event.at, event.agent, event.profile, event.server, event.tool, event.payload]) {
    const text = field ?? '\u0000null';
    hash.update(`${Buffer.byteLength(text)}:`).update(text);
  }
  return hash.digest('hex');
}

export type ChainProblem =
  | { kind: 'modified'; seq: number }
  | { kind: 'missing-start'; seq: number }
  | { kind: 'broken-link'; seq: number; expectedPrev: string; foundPrev: string }
  | { kind: 'gap'; seq: number; expectedSeq: number }
  | { kind: 'unhashed'; seq: number };

/** Where a chain may start other than at the genesis. */
export interface ChainStart {
  /** Accept whatever the first event links to (an export that starts mid-chain and ends at a signed checkpoint). */
  open?: boolean;
  /** seq → hash of the last event of a signed prune: the chain may start right after it. */
  anchors?: ReadonlyMap<number, string>;
}

export interface ChainReport {
  /** Events checked (from the first chained one). */
  checked: number;
  /** The first chained event, and what it links to. */
  firstSeq: number | undefined;
  start: 'genesis' | 'anchor' | 'open' | undefined;
  /** Events before the chain started (written by a version without it). */
  unchained: number;
  lastSeq: number | undefined;
  lastHash: string | undefined;
  problem: ChainProblem | undefined;
}

/**
 * Walks events in `seq` order and reports the first one that does not fit: an edited event
 * (its hash is not the hash of its fields), a link that does not point at its predecessor
 * (inserted, deleted or reordered events), a gap in the sequence, a hashless event inside
 * the chain, or a first event that links to neither the genesis nor an allowed start.
 */
export class ChainVerifier {
  private checked = 0;
  private unchained = 0;
  private first: { seq: number; start: NonNullable<ChainReport['start']> } | undefined;
  private previous: { seq: number; hash: string } | undefined;
  private problem: ChainProblem | undefined;

  constructor(private readonly allowed: ChainStart = {}) {}

  /** Feeds the next event; false once a problem was found (the rest need not be read). */
  next(event: ChainedEvent): boolean {
    if (this.problem) return false;
    if (event.hash === null || event.prevHash === null) {
      if (this.previous) this.problem = { kind: 'unhashed', seq: event.seq };
      else this.unchained += 1;
      return !this.problem;
    }
    if (this.previous && event.seq !== this.previous.seq + 1) {
      this.problem = { kind: 'gap', seq: event.seq, expectedSeq: this.previous.seq + 1 };
      return false;
    }
    if (!this.previous) {
      const start = this.startOf(event);
      if (!start) {
        this.problem = { kind: 'missing-start', seq: event.seq };
        return false;
      }
      this.first = { seq: event.seq, start };
    }
    const expectedPrev = this.previous?.hash ?? event.prevHash;
    if (event.prevHash !== expectedPrev) {
      this.problem = { kind: 'broken-link', seq: event.seq, expectedPrev, foundPrev: event.prevHash };
      return false;
    }
    if (eventHash(event.prevHash, event) !== event.hash) {
      this.problem = { kind: 'modified', seq: event.seq };
      return false;
    }
    this.previous = { seq: event.seq, hash: event.hash };
    this.checked += 1;
    return true;
  }

  report(): ChainReport {
    return {
      checked: this.checked,
      firstSeq: this.first?.seq,
      start: this.first?.start,
      unchained: this.unchained,
      lastSeq: this.previous?.seq,
      lastHash: this.previous?.hash,
      problem: this.problem,
    };
  }

  private startOf(event: ChainedEvent): ChainReport['start'] {
    // The genesis is the first event of the store (after any written before the chain existed),
    // unless the verifier was told the chain may start anywhere (an export).
    if (event.prevHash === GENESIS_HASH && (event.seq === this.unchained + 1 || this.allowed.open)) return 'genesis';
    if (this.allowed.anchors?.get(event.seq - 1) === event.prevHash) return 'anchor';
    return this.allowed.open ? 'open' : undefined;
  }
}

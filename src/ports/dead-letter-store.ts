/**
 * open → retrying (one `gatehouse dlq retry` at a time) → retried, or back to open when it failed
 * again, or when its process is gone; open → dropped (an operator gave up on it, saying why).
 * Letters are never deleted.
 */
export const DEAD_LETTER_STATUSES = ['open', 'retrying', 'retried', 'dropped'] as const;
export type DeadLetterStatus = (typeof DEAD_LETTER_STATUSES)[number];

/**
 * `call`: an approved call that ran after its agent stopped waiting and failed after its safe
 * retries; payload `{approval, key, arguments, exposedName}`. `events`: a batch of audit events
 * the event store refused after the outbox's retries; payload `{events}`.
 */
export type DeadLetterKind = 'call' | 'events';

export interface NewDeadLetter {
  kind: DeadLetterKind;
  createdAt: string;
  agent?: string | undefined;
  profile?: string | undefined;
  server?: string | undefined;
  tool?: string | undefined;
  payload: Record<string, unknown>;
  /** The last failure. */
  error: { code: string; message: string };
  /** Attempts made so far (the first run and its retries). */
  attempts: number;
}

export interface DeadLetter extends NewDeadLetter {
  id: string;
  status: DeadLetterStatus;
  settledAt?: string;
  settledBy?: string;
  settleReason?: string;
  /** The process ("host:pid:start") of the `dlq retry` that last moved it to `retrying`. */
  claimedBy?: string;
}

/** What a status change sets besides the status. */
export interface DeadLetterChange {
  at: string;
  by?: string;
  reason?: string;
  /** A retry that failed again: its failure, and one more attempt. */
  error?: { code: string; message: string };
  /** The process ("host:pid:start") moving it to `retrying`. */
  owner?: string;
}

/** The dead-letter table. Every status change is a compare-and-set. */
export interface DeadLetterStore {
  /** Stores a letter `open`, with the given id (one moved in from the fallback file) or a new `dl_` id. */
  add(letter: NewDeadLetter, id?: string): Promise<DeadLetter>;
  get(id: string): Promise<DeadLetter | undefined>;
  /** Newest first. */
  list(filter?: { status?: DeadLetterStatus; limit?: number }): Promise<DeadLetter[]>;
  /** `from` → `to`; false when the letter is not (or no longer) in `from`. */
  transition(id: string, from: DeadLetterStatus, to: DeadLetterStatus, change: DeadLetterChange): Promise<boolean>;
}

/** A line of the fallback: a letter, or the note that it was moved into the store. */
export type DeadLetterFallbackLine = DeadLetter | { id: string; movedToStoreAt: string };

/** A line of the fallback that is not a letter or a note (`line` absent: the whole file cannot be read). */
export interface UnreadableLine {
  file: string;
  line?: number;
  problem: string;
}

/** What the fallback holds: its letters, and the lines that could not be read, so that none is hidden. */
export interface FallbackContents {
  letters: DeadLetter[];
  unreadable: UnreadableLine[];
}

/**
 * Where letters go when the store refuses them (an append-only file): appended durably, read
 * back as the letters not moved into the store yet.
 */
export interface DeadLetterFallback {
  append(line: DeadLetterFallbackLine): void;
  read(): FallbackContents;
}

/** A new letter id. */
export function newDeadLetterId(): string {
  return `dl_${Array.from(crypto.getRandomValues(new Uint8Array(8)), (byte) => byte.toString(16).padStart(2, '0')).join('')}`;
}

import { GatehouseError, isGatehouseError } from '../core/errors.js';
import type { GatehouseEvent, RecordEvent } from '../core/events.js';
import { ownerState, processOwner } from '../governance/crash-recovery.js';
import { newDeadLetterId, type DeadLetter, type DeadLetterFallback, type DeadLetterStatus, type DeadLetterStore, type NewDeadLetter, type UnreadableLine } from '../ports/dead-letter-store.js';

/** A dead letter as `gatehouse dlq list` shows it: from the table, or still in the fallback file. */
export type ListedDeadLetter = DeadLetter & { where: 'store' | 'file' };

/** `dlq list`: the letters, and the lines of the fallback file that could not be read (they must be shown too). */
export interface DeadLetterListing {
  letters: ListedDeadLetter[];
  unreadable: UnreadableLine[];
  /** There are more than `limit` letters: the newest `limit` are listed. */
  more: boolean;
}

/** How many letters a listing holds unless told otherwise. */
export const DEAD_LETTER_LIST_LIMIT = 1000;

/**
 * The dead letters of one store and its fallback file. A letter goes to the table; when the
 * store refuses it, to the file. Retry and drop work on the table only: a letter still in the
 * file is moved in first (its id is the primary key, so it moves once).
 */
export class DeadLetterBox {
  constructor(
    private readonly store: DeadLetterStore,
    private readonly file: DeadLetterFallback,
    private readonly record: RecordEvent,
  ) {}

  /** Keeps a letter (table, else file) and announces it with `dead_letter.added` unless `quiet`. */
  async add(letter: NewDeadLetter, options: { quiet?: boolean } = {}): Promise<ListedDeadLetter> {
    let kept: ListedDeadLetter;
    try {
      kept = { ...(await this.store.add(letter)), where: 'store' };
    } catch {
      kept = { ...letter, id: newDeadLetterId(), status: 'open', where: 'file' };
      this.file.append(stripWhere(kept));
    }
    if (!options.quiet) {
      this.record({ type: 'dead_letter.added', ...who(letter), payload: { deadLetter: kept.id, kind: letter.kind, code: letter.error.code, where: kept.where, attempts: letter.attempts } });
    }
    return kept;
  }

  /** The outbox's last resort for a batch: a letter of kind `events`, announced unless the batch only announced letters (no loop). */
  async addEvents(events: GatehouseEvent[], error: unknown, attempts: number): Promise<void> {
    await this.add(
      { kind: 'events', createdAt: new Date().toISOString(), payload: { events }, error: failureOf(error), attempts },
      { quiet: events.every((event) => event.type.startsWith('dead_letter.')) },
    );
  }

  /**
   * The newest `limit` letters of the table and the file together (with `status`, only those),
   * newest first, whether there are more, and the file's unreadable lines.
   */
  async list(status?: DeadLetterStatus, limit = DEAD_LETTER_LIST_LIMIT): Promise<DeadLetterListing> {
    // One more than asked for: whether there are more is then known without counting.
    const stored = (await this.store.list({ ...(status ? { status } : {}), limit: limit + 1 })).map((letter) => ({ ...letter, where: 'store' as const }));
    const ids = new Set(stored.map((letter) => letter.id));
    const { letters, unreadable } = this.file.read();
    // A filed letter moved into the table but older than the `limit + 1` listed from it is not in
    // `ids`; it sorts after all of them, so it is cut below and only makes `more` true, which it is.
    const filed = letters.filter((letter) => !ids.has(letter.id) && (!status || letter.status === status)).map((letter) => ({ ...letter, where: 'file' as const }));
    const all = [...stored, ...filed].sort((a, b) => b.createdAt.localeCompare(a.createdAt));
    return { letters: all.slice(0, limit), unreadable, more: all.length > limit };
  }

  /** A letter from the table, moving it in from the file first when it is only there. */
  async get(id: string): Promise<DeadLetter> {
    const stored = await this.store.get(id);
    if (stored) return stored;
    const { letters, unreadable } = this.file.read();
    const filed = letters.find((letter) => letter.id === id);
    if (!filed) {
      const hint = unreadable.length > 0 ? ` (${unreadable.length} lines of ${unreadable[0]!.file} cannot be read: \`gatehouse dlq list\` names them)` : '';
      throw new GatehouseError('GH_DEAD_LETTER_UNKNOWN', `no dead letter "${id}"${hint}`, { deadLetter: id, unreadable: unreadable.length });
    }
    try {
      await this.store.add(filed, id);
    } catch (error) {
      if (!(await this.store.get(id))) throw error; // moved meanwhile by another command: fine
    }
    this.file.append({ id, movedToStoreAt: new Date().toISOString() });
    return (await this.store.get(id))!;
  }

  /**
   * Runs the letter again, once: open → retrying is a compare-and-set, so two retries cannot
   * both run it. Success → retried; failure → open again with the new error and one more attempt.
   * A letter left `retrying` by a process that is gone is taken back first (see takeBack).
   */
  async retry(id: string, by: string, rerun: (letter: DeadLetter) => Promise<void>, options: TakeBack = {}): Promise<DeadLetter> {
    const letter = await this.takeBack(await this.get(id), by, options);
    if (!(await this.store.transition(id, 'open', 'retrying', { at: new Date().toISOString(), by, owner: processOwner() }))) throw notOpen(letter);
    try {
      await rerun(letter);
    } catch (error) {
      await this.store.transition(id, 'retrying', 'open', { at: new Date().toISOString(), error: failureOf(error) });
      this.record({ type: 'dead_letter.retried', ...who(letter), payload: { deadLetter: id, kind: letter.kind, by, ok: false, code: failureOf(error).code } });
      throw error;
    }
    await this.store.transition(id, 'retrying', 'retried', { at: new Date().toISOString(), by });
    this.record({ type: 'dead_letter.retried', ...who(letter), payload: { deadLetter: id, kind: letter.kind, by, ok: true } });
    return (await this.store.get(id))!;
  }

  /** Gives up on a letter; it stays in the table as `dropped`, with who and why (and a `dead_letter.dropped` event). */
  async drop(id: string, by: string, reason: string, options: TakeBack = {}): Promise<DeadLetter> {
    const letter = await this.takeBack(await this.get(id), by, options);
    if (!(await this.store.transition(id, 'open', 'dropped', { at: new Date().toISOString(), by, reason }))) throw notOpen(letter);
    this.record({ type: 'dead_letter.dropped', ...who(letter), payload: { deadLetter: id, kind: letter.kind, by, reason } });
    return (await this.store.get(id))!;
  }

  /**
   * A letter `retrying` whose `dlq retry` process is gone (killed mid-retry) goes back to open,
   * with that as its error and one more attempt, and a `dead_letter.reopened` event. Only a
   * process on this host can be checked; one on another host is taken as running unless
   * `reclaim` (the operator knows it is gone). A running one is never taken over. For a call,
   * the interrupted run's ledger key (`dlq:<id>`) still decides whether it runs again.
   */
  private async takeBack(letter: DeadLetter, by: string, { reclaim = false }: TakeBack): Promise<DeadLetter> {
    if (letter.status !== 'retrying') return letter;
    const state = ownerState(letter.claimedBy);
    if (state === 'alive' || (state === 'unknown' && !reclaim)) {
      const where = state === 'alive' ? 'a process that is still running' : 'a process on another host (pass --reclaim if it is gone)';
      throw new GatehouseError('GH_DEAD_LETTER_SETTLED', `dead letter ${letter.id} is being retried by ${letter.claimedBy ?? '?'}, ${where}`, { deadLetter: letter.id, status: letter.status, claimedBy: letter.claimedBy });
    }
    const error = { code: 'GH_GATEWAY_STOPPED', message: `the retry by ${letter.settledBy ?? '?'} (process ${letter.claimedBy ?? 'unknown'}) stopped before it settled the letter` };
    if (await this.store.transition(letter.id, 'retrying', 'open', { at: new Date().toISOString(), error })) {
      this.record({ type: 'dead_letter.reopened', ...who(letter), payload: { deadLetter: letter.id, kind: letter.kind, by, claimedBy: letter.claimedBy ?? null, reclaimed: state === 'unknown' } });
    }
    return (await this.store.get(letter.id))!;
  }
}

/** Whether a retry or drop may take back a letter claimed by a process on another host. */
interface TakeBack {
  reclaim?: boolean;
}

function notOpen(letter: DeadLetter): GatehouseError {
  return new GatehouseError('GH_DEAD_LETTER_SETTLED', `dead letter ${letter.id} is ${letter.status}, not open`, { deadLetter: letter.id, status: letter.status });
}

function who(letter: NewDeadLetter): Pick<GatehouseEvent, 'agent' | 'profile' | 'server' | 'tool'> {
  return { agent: letter.agent, profile: letter.profile, server: letter.server, tool: letter.tool };
}

export function failureOf(error: unknown): { code: string; message: string } {
  return isGatehouseError(error) ? { code: error.code, message: error.message } : { code: 'GH_STORE_UNAVAILABLE', message: (error as Error)?.message ?? String(error) };
}

function stripWhere(letter: ListedDeadLetter): DeadLetter {
  const { where: _where, ...rest } = letter;
  return rest;
}

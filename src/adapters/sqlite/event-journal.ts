import Database from 'better-sqlite3';
import { closeSync, ftruncateSync, openSync, readdirSync, readFileSync, rmSync, unlinkSync, writeSync } from 'node:fs';
import { randomUUID } from 'node:crypto';
import path from 'node:path';
import type { GatehouseEvent } from '../../core/events.js';
import { pidGone } from '../../core/pid.js';

/** A journal whose every line is committed is emptied once it is larger than this. */
const TRUNCATE_ABOVE_BYTES = 1 << 20;

/** One line of a journal: its number (1, 2, … for the life of the process) and the event. */
interface JournalLine {
  n: number;
  event: GatehouseEvent;
}

/** A line that takes lines back: their events were dead-lettered (a replay leaves them out). */
interface SkipLine {
  skip: number[];
}

/**
 * The events a process answered for before they were committed, in a file of its own beside the
 * SQLite database (`<db>.events-<pid>-<tag>.jsonl`). Appending a line is one write to the file,
 * where a commit is a transaction: locks, a B-tree insert and a WAL frame. The line is in the
 * operating system's hands once `write` returns, as a commit with `synchronous = NORMAL` is, so
 * it survives a killed process (`durability: process`; with `power` the store keeps no journal).
 * The commit follows with the outbox's next batch, and records the number of the last line it
 * holds (`event_journals.through`); a process that opens the store after this one died appends
 * the lines after that number (`leftJournals`).
 *
 * While the journal is open, its process holds an exclusive lock on a small SQLite file beside it
 * (`….jsonl.lock`); the kernel drops the lock when the process ends, however it ends. A journal
 * whose lock another process can take is left: that tells a dead process from a live one even
 * when its pid now belongs to another process (a container's gateway restarted as pid 1 again)
 * or to another pid namespace sharing the volume, where the pid says nothing.
 */
export class EventJournal {
  private readonly fd: number;
  private readonly lock: Database.Database;
  private lastWritten = 0;
  private lastCommitted = 0;
  private bytes = 0;
  private broken = false;

  constructor(
    /** The journal's file name, which is also its row in event_journals. */
    readonly name: string,
    folder: string,
  ) {
    // The lock first: a journal file is never without its lock while its process lives.
    this.lock = holdLock(path.join(folder, lockName(name)));
    try {
      this.fd = openSync(path.join(folder, name), 'wx');
    } catch (error) {
      releaseLock(this.lock);
      throw error;
    }
  }

  /** Appends the events; returns the number of the last one's line. Throws if the file cannot be written. */
  write(events: readonly GatehouseEvent[]): number {
    let text = '';
    let n = this.lastWritten;
    for (const event of events) text += `${JSON.stringify({ n: ++n, event } satisfies JournalLine)}\n`;
    this.append(text);
    this.lastWritten = n;
    return n;
  }

  /** Writes whole lines at the end of the file with one write, or nothing of them. */
  private append(text: string): void {
    if (this.broken) throw new Error(`event journal ${this.name}: an earlier write failed and could not be undone`);
    // Encoded once: its length is what the write must report.
    const bytes = Buffer.from(text);
    const length = bytes.length;
    try {
      // At an explicit offset: after a truncation the file's own position is past its end.
      if (writeSync(this.fd, bytes, 0, length, this.bytes) !== length) throw new Error(`event journal ${this.name}: short write (disk full?)`);
    } catch (error) {
      // Nothing of a failed write may stay: its events are committed the slow way, and a replay
      // must not append them a second time.
      try {
        ftruncateSync(this.fd, this.bytes);
      } catch {
        // Lines of unknown extent stay: no further line may follow them.
        this.broken = true;
      }
      throw error;
    }
    this.bytes += length;
  }

  /**
   * Takes lines back (their events were dead-lettered): one more line, numbered none, that a
   * replay reads before it appends. Throws if it cannot be written; nothing of it then stays.
   */
  skip(lines: readonly number[]): void {
    this.append(`${JSON.stringify({ skip: [...lines] } satisfies SkipLine)}\n`);
  }

  /** Lines through `n` are committed: once every line is, a large file is emptied (line numbers go on). */
  committed(n: number): void {
    this.lastCommitted = Math.max(this.lastCommitted, n);
    if (this.lastCommitted === this.lastWritten && this.bytes > TRUNCATE_ABOVE_BYTES) {
      ftruncateSync(this.fd, 0);
      this.bytes = 0;
    }
  }

  /** Closes and deletes the file and its lock: the process is done with it. */
  remove(folder: string): void {
    closeSync(this.fd);
    unlinkSync(path.join(folder, this.name));
    releaseLock(this.lock);
  }
}

/** A new journal's file name for this process, beside `databaseFile`. */
export function journalName(databaseFile: string): string {
  return `${path.basename(databaseFile)}.events-${process.pid}-${randomUUID().slice(0, 8)}.jsonl`;
}

/** The journals beside `databaseFile` whose process is gone: theirs to replay. */
export function leftJournals(databaseFile: string): string[] {
  const folder = path.dirname(databaseFile);
  const prefix = `${path.basename(databaseFile)}.events-`;
  let names: string[];
  try {
    names = readdirSync(folder);
  } catch {
    return [];
  }
  const locks = new Set(names.filter((name) => name.endsWith(LOCK_SUFFIX)));
  return names.filter((name) => {
    if (!name.startsWith(prefix) || !name.endsWith('.jsonl')) return false;
    if (locks.has(lockName(name))) return lockIsFree(path.join(folder, lockName(name)));
    // Written by a version without the lock (or its process died between the two files): its pid decides.
    const pid = Number(name.slice(prefix.length).split('-')[0]);
    return pid !== process.pid && pidGone(pid);
  });
}

/** Deletes a replayed journal and its lock file (either may be gone already: another process replayed it too). */
export function deleteLeftJournal(folder: string, journal: string): void {
  rmSync(path.join(folder, journal), { force: true });
  rmSync(path.join(folder, lockName(journal)), { force: true });
}

const LOCK_SUFFIX = '.lock';

function lockName(journal: string): string {
  return `${journal}${LOCK_SUFFIX}`;
}

/** Opens (creating) the SQLite file and takes its exclusive lock, held until releaseLock or the process's end. */
function holdLock(file: string): Database.Database {
  const db = new Database(file, { timeout: 0 });
  try {
    db.exec('BEGIN EXCLUSIVE');
    return db;
  } catch (error) {
    db.close();
    throw error;
  }
}

function releaseLock(db: Database.Database): void {
  const file = db.name;
  db.close();
  rmSync(file, { force: true });
}

/** Whether no process holds the lock: taking it (and letting go at once) succeeds. */
function lockIsFree(file: string): boolean {
  let db: Database.Database;
  try {
    db = new Database(file, { timeout: 0, fileMustExist: true });
  } catch {
    return false; // gone meanwhile (replayed by another process), or unreadable: not ours to replay
  }
  try {
    db.exec('BEGIN EXCLUSIVE');
    db.exec('ROLLBACK');
    return true;
  } catch (error) {
    if ((error as { code?: string }).code === 'SQLITE_BUSY') return false;
    throw error;
  } finally {
    db.close();
  }
}

/**
 * A left journal's lines after `through`, in order, but for those a later line took back (their
 * events were dead-lettered). A last line cut short (the process died inside the write) was never
 * acknowledged, and is left out.
 */
export function linesAfter(file: string, through: number): Array<{ n: number; event: GatehouseEvent }> {
  const lines: JournalLine[] = [];
  const skipped = new Set<number>();
  let content: string;
  try {
    content = readFileSync(file, 'utf8');
  } catch (error) {
    // Replayed and deleted by another process in the meantime.
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw error;
  }
  for (const text of content.split('\n')) {
    if (text === '') continue;
    let line: JournalLine | SkipLine;
    try {
      line = JSON.parse(text) as JournalLine | SkipLine;
    } catch {
      break;
    }
    if ('skip' in line) for (const n of line.skip) skipped.add(n);
    else if (line.n > through) lines.push(line);
  }
  return skipped.size === 0 ? lines : lines.filter((line) => !skipped.has(line.n));
}


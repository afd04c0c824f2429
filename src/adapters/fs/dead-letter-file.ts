import { closeSync, existsSync, fstatSync, fsyncSync, mkdirSync, openSync, readFileSync, readSync, writeSync } from 'node:fs';
import path from 'node:path';
import type { DeadLetter, DeadLetterFallback, DeadLetterFallbackLine as Line, FallbackContents, UnreadableLine } from '../../ports/dead-letter-store.js';
import { parseDeadLetterLine } from './dead-letter-line.js';

/**
 * Where a dead letter goes when the store itself refuses it (the event store is usually the
 * dead-letter store too: when one fails, so does the other). JSON lines, appended and fsynced,
 * never rewritten; `gatehouse dlq` reads it beside the table and moves a letter into the table
 * (same id) before it retries or drops it, so nothing is lost and nothing is handled twice.
 */
export class DeadLetterFile implements DeadLetterFallback {
  constructor(readonly file: string) {}

  append(line: Line): void {
    mkdirSync(path.dirname(this.file), { recursive: true });
    const fd = openSync(this.file, 'a+', 0o600);
    try {
      // After a write cut short, a new line glued onto the torn one would be lost with it.
      writeSync(fd, `${endsMidLine(fd) ? '\n' : ''}${JSON.stringify(line)}\n`);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
  }

  /**
   * The letters not moved into the store yet, oldest first, and every line that is not a letter
   * or a note. This file is the last place some audit events live, so only a torn last line
   * (JSON cut short without its newline: a crash mid-write, whose letter was never kept) is
   * skipped without a word.
   */
  read(): FallbackContents {
    if (!existsSync(this.file)) return { letters: [], unreadable: [] };
    let content: string;
    try {
      content = readFileSync(this.file, 'utf8');
    } catch (error) {
      return { letters: [], unreadable: [{ file: this.file, problem: `cannot read it: ${(error as Error).message}` }] };
    }
    const letters = new Map<string, DeadLetter>();
    const unreadable: UnreadableLine[] = [];
    const lines = content.split('\n');
    const torn = content.endsWith('\n') ? -1 : lines.length - 1;
    for (const [index, text] of lines.entries()) {
      if (!text) continue;
      const parsed = parseDeadLetterLine(text);
      if ('problem' in parsed) {
        if (!(index === torn && parsed.notJson)) unreadable.push({ file: this.file, line: index + 1, problem: parsed.problem });
        continue;
      }
      if ('movedToStoreAt' in parsed.line) letters.delete(parsed.line.id);
      else letters.set(parsed.line.id, parsed.line);
    }
    return { letters: [...letters.values()], unreadable };
  }
}

function endsMidLine(fd: number): boolean {
  const { size } = fstatSync(fd);
  if (size === 0) return false;
  const last = Buffer.alloc(1);
  readSync(fd, last, 0, 1, size - 1);
  return last[0] !== 0x0a;
}

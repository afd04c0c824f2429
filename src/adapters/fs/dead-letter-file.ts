import { closeSync, existsSync, fsyncSync, mkdirSync, openSync, readFileSync, writeSync } from 'node:fs';
import path from 'node:path';
import type { DeadLetter, DeadLetterFallback, DeadLetterFallbackLine as Line } from '../../ports/dead-letter-store.js';

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
    const fd = openSync(this.file, 'a', 0o600);
    try {
      writeSync(fd, `${JSON.stringify(line)}\n`);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
  }

  /** The letters not moved into the store yet, oldest first. A torn last line (a crash mid-write) is skipped. */
  letters(): DeadLetter[] {
    if (!existsSync(this.file)) return [];
    const letters = new Map<string, DeadLetter>();
    for (const text of readFileSync(this.file, 'utf8').split('\n')) {
      if (!text) continue;
      let line: Line;
      try {
        line = JSON.parse(text) as Line;
      } catch {
        continue;
      }
      if ('movedToStoreAt' in line) letters.delete(line.id);
      else letters.set(line.id, line);
    }
    return [...letters.values()];
  }
}

import { closeSync, openSync, writeSync } from 'node:fs';

const FLUSH_CHARS = 1 << 20;

/**
 * Writes lines to a file through a 1 MiB buffer, synchronously (one writer, no back-pressure to
 * manage). Lines are "binary strings": every char is one byte (latin1), so that a line can hold
 * UTF-8 bytes and CP1252 bytes side by side, as messy real files do.
 */
export class LineWriter {
  private readonly fd: number;
  private pending: string[] = [];
  private pendingChars = 0;
  /** The number of the last line written (the header is line 1). */
  line = 0;
  bytes = 0;

  constructor(
    readonly file: string,
    /** Told how many lines each buffer flush wrote (for progress). */
    private readonly flushed: (lines: number) => void = () => undefined,
  ) {
    this.fd = openSync(file, 'w');
  }

  write(line: string): number {
    this.pending.push(line);
    this.pendingChars += line.length + 1;
    if (this.pendingChars >= FLUSH_CHARS) this.flush();
    return ++this.line;
  }

  private flush(): void {
    if (this.pending.length === 0) return;
    const chunk = this.pending.join('\n') + '\n';
    this.bytes += writeSync(this.fd, chunk, null, 'latin1');
    this.flushed(this.pending.length);
    this.pending = [];
    this.pendingChars = 0;
  }

  close(): void {
    this.flush();
    closeSync(this.fd);
  }
}

/** UTF-8 bytes of a string, as a binary string for LineWriter. */
export const utf8Bytes = (text: string): string => Buffer.from(text, 'utf8').toString('latin1');

/** The most of one line a tail shows, once scrubbed; a longer line is cut and ends with an ellipsis. */
const SHOWN_CHARS = 500;

/**
 * The most of a line still being written that is kept. A server that never ends its lines (a
 * progress bar redrawn with carriage returns) must not grow the gateway's memory without end;
 * the margin beyond what is shown lets a secret that starts in the shown part be seen whole.
 */
const PARTIAL_CHARS = 16 * 1024;

/**
 * Keeps the last lines a child wrote to stderr, for crash reports; never logs them as they come.
 * Each line is scrubbed (the config's secret values) before it is kept: the tail reaches agents
 * in error messages, the audit events and the servers API, not only the log.
 */
export class StderrTail {
  private readonly buffer: string[] = [];
  private partial = '';

  constructor(
    private readonly maxLines: number,
    private readonly scrub: (line: string) => string = (line) => line,
  ) {}

  push(chunk: Buffer | string): void {
    const text = this.partial + chunk.toString();
    const parts = text.split('\n');
    this.partial = (parts.pop() ?? '').slice(0, PARTIAL_CHARS);
    for (const line of parts) {
      if (line.trim() === '') continue;
      this.buffer.push(this.shown(line));
      if (this.buffer.length > this.maxLines) this.buffer.shift();
    }
  }

  lines(): string[] {
    return this.partial ? [...this.buffer, this.shown(this.partial)] : [...this.buffer];
  }

  private shown(line: string): string {
    const clean = this.scrub(line);
    return clean.length > SHOWN_CHARS ? `${clean.slice(0, SHOWN_CHARS)}…` : clean;
  }
}

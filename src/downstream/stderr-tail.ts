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
    this.partial = parts.pop() ?? '';
    for (const line of parts) {
      if (line.trim() === '') continue;
      const clean = this.scrub(line);
      this.buffer.push(clean.length > 500 ? `${clean.slice(0, 500)}…` : clean);
      if (this.buffer.length > this.maxLines) this.buffer.shift();
    }
  }

  lines(): string[] {
    return this.partial ? [...this.buffer, this.scrub(this.partial)] : [...this.buffer];
  }
}

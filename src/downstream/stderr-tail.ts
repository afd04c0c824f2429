/** Keeps the last lines a child wrote to stderr, for crash reports; never logs them as they come. */
export class StderrTail {
  private readonly buffer: string[] = [];
  private partial = '';

  constructor(private readonly maxLines: number) {}

  push(chunk: Buffer | string): void {
    const text = this.partial + chunk.toString();
    const parts = text.split('\n');
    this.partial = parts.pop() ?? '';
    for (const line of parts) {
      if (line.trim() === '') continue;
      this.buffer.push(line.length > 500 ? `${line.slice(0, 500)}…` : line);
      if (this.buffer.length > this.maxLines) this.buffer.shift();
    }
  }

  lines(): string[] {
    return this.partial ? [...this.buffer, this.partial] : [...this.buffer];
  }
}

import { once } from 'node:events';
import type { Writable } from 'node:stream';

/**
 * Writes each line and a newline, waiting for the stream to drain, so that a million lines never pile up in memory.
 * Once the reader has gone (the stream is destroyed) the rest is not produced at all.
 */
export async function writeLines(out: Writable, lines: AsyncIterable<string>): Promise<void> {
  let chunk = '';
  for await (const line of lines) {
    chunk += `${line}\n`;
    if (chunk.length < 64 * 1024) continue;
    if (out.destroyed) return;
    if (!out.write(chunk)) await once(out, 'drain');
    chunk = '';
  }
  if (chunk && !out.destroyed && !out.write(chunk)) await once(out, 'drain');
}

import { once } from 'node:events';
import type { Writable } from 'node:stream';

/** Writes each line and a newline, waiting for the stream to drain, so that a million lines never pile up in memory. */
export async function writeLines(out: Writable, lines: AsyncIterable<string>): Promise<void> {
  let chunk = '';
  for await (const line of lines) {
    chunk += `${line}\n`;
    if (chunk.length < 64 * 1024) continue;
    if (!out.write(chunk)) await once(out, 'drain');
    chunk = '';
  }
  if (chunk && !out.write(chunk)) await once(out, 'drain');
}

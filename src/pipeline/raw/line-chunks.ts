import { createReadStream } from 'node:fs';

const CHUNK = 4 << 20;

/**
 * A file read in 4 MB pieces, handed out as runs of whole lines: each chunk ends with a newline,
 * except a last line that has none. `onRead` sees every piece as read from disk (for a hash of the
 * exact bytes), before it is cut at a line end.
 */
export async function* lineChunks(path: string, onRead: (piece: Buffer) => void = () => undefined): AsyncGenerator<Buffer> {
  let carry: Buffer | null = null;
  for await (const piece of createReadStream(path, { highWaterMark: CHUNK })) {
    onRead(piece as Buffer);
    const data: Buffer = carry ? Buffer.concat([carry, piece as Buffer]) : (piece as Buffer);
    const lastNewline = data.lastIndexOf(10);
    if (lastNewline < 0) {
      carry = data;
      continue;
    }
    carry = lastNewline + 1 < data.length ? Buffer.from(data.subarray(lastNewline + 1)) : null;
    yield data.subarray(0, lastNewline + 1);
  }
  if (carry) yield carry;
}

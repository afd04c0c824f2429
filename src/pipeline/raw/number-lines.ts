/**
 * Line numbers for DuckDB's CSV reader, which has none. `WITH ORDINALITY` gave them, but only by
 * reading the file on one thread, in order (a 1.77M-row CAASPP file: 17.5 s against 7.1 s for a
 * plain parallel read here). So Node writes a copy whose lines start with their own number and a
 * separator; DuckDB reads the number as a column, in parallel and in any order. Line N of the copy
 * is line N of the source, byte for byte after the prefix, except that a CRLF end becomes LF; empty
 * lines stay empty (the reader skips them, as it did the source's). The header line gets `_line` as
 * its first field.
 */
import { closeSync, openSync, writeSync } from 'node:fs';
import { lineChunks } from './line-chunks.js';

/** Longest prefix: 16 digits and the separator. */
const PREFIX_MAX = 16;

export async function numberLines(source: string, target: string, separatorText: string): Promise<{ lines: number }> {
  const separator = Buffer.from(separatorText, 'utf8');
  const out = openSync(target, 'w');
  let output = Buffer.alloc(0);
  let line = 1;

  /** Writes the lines of one chunk (each ends with \n, except a last line without one at the end of the file). */
  const writeLines = (data: Buffer): void => {
    let lines = 0;
    for (let index = data.indexOf(10); index >= 0; index = data.indexOf(10, index + 1)) lines++;
    const needed = data.length + (lines + 1) * (PREFIX_MAX + separator.length);
    if (output.length < needed) output = Buffer.allocUnsafe(needed);
    let at = 0;
    let start = 0;
    while (start < data.length) {
      let end = data.indexOf(10, start);
      if (end < 0) end = data.length - 1;
      const empty = end === start || (end === start + 1 && data[start] === 13);
      if (!empty) {
        // The number's digits and the separator byte by byte: a native call per line for each cost more than the copy.
        if (line === 1) at += output.write('_line', at, 'latin1');
        else at = writeDigits(output, at, line);
        for (let index = 0; index < separator.length; index++) output[at++] = separator[index]!;
      }
      // CRLF ends become LF: DuckDB's reader takes one kind of line end per file (a file that mixes
      // them stopped it), and Raw keeps a line's text without its end either way.
      if (data[end] === 10 && end > start && data[end - 1] === 13) {
        at += data.copy(output, at, start, end - 1);
        output[at++] = 10;
      } else {
        at += data.copy(output, at, start, end + 1);
      }
      line++;
      start = end + 1;
    }
    writeSync(out, output, 0, at);
  };

  try {
    for await (const lines of lineChunks(source)) writeLines(lines);
  } finally {
    closeSync(out);
  }
  return { lines: line - 1 };
}

/** Writes the decimal digits of a positive integer at `at`; returns the position after them. */
function writeDigits(output: Buffer, at: number, value: number): number {
  let digits = 1;
  for (let rest = value; rest >= 10; rest = Math.floor(rest / 10)) digits++;
  for (let index = at + digits - 1, rest = value; index >= at; index--, rest = Math.floor(rest / 10)) output[index] = 48 + (rest % 10);
  return at + digits;
}

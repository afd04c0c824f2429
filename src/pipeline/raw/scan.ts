/**
 * Node's share of Raw: hash a file, find the lines that are not valid UTF-8 and decode them from
 * CP1252 (iconv-lite; DuckDB cannot load its encodings extension here), writing a UTF-8 copy only
 * when a file needs one. A clean file is read once, at disk speed, and handed to the engine as is.
 */
import { createHash } from 'node:crypto';
import { closeSync, createReadStream, openSync, readSync, statSync, writeSync } from 'node:fs';
import { isAscii, isUtf8 } from 'node:buffer';
import iconv from 'iconv-lite';
import { lineChunks } from './line-chunks.js';

export const RULE_CP1252 = 'A.encoding_cp1252';
export const RULE_ENCODING_INVALID = 'A.encoding_valid';

export interface ScannedFile {
  path: string;
  sha256: string;
  bytes: number;
  mtimeMs: number;
  /** The header fields, decoded. */
  header: string[];
  /** True when some line is not UTF-8: loadPath is then a decoded copy. */
  decoded: boolean;
  coercedLines: Array<{ line: number; rule: string }>;
}

const CHUNK = 4 << 20;
/** Bytes CP1252 leaves undefined: a line holding one is neither UTF-8 nor CP1252. */
const UNDEFINED_IN_CP1252 = new Set([0x81, 0x8d, 0x8f, 0x90, 0x9d]);

/** First pass: the hash, the header, and whether any byte is outside ASCII. */
export async function scanFile(path: string, delimiter: string): Promise<ScannedFile & { ascii: boolean }> {
  const stat = statSync(path);
  const hash = createHash('sha256');
  let ascii = true;
  for await (const chunk of createReadStream(path, { highWaterMark: CHUNK })) {
    hash.update(chunk as Buffer);
    if (ascii && !isAscii(chunk as Buffer)) ascii = false;
  }
  return { path, sha256: hash.digest('hex'), bytes: stat.size, mtimeMs: stat.mtimeMs, header: readHeader(path, delimiter), decoded: false, coercedLines: [], ascii };
}

function readHeader(path: string, delimiter: string): string[] {
  const fd = openSync(path, 'r');
  try {
    const buffer = Buffer.alloc(64 * 1024);
    const size = readSync(fd, buffer, 0, buffer.length, 0);
    let end = buffer.subarray(0, size).indexOf(10);
    if (end < 0) end = size;
    let line = buffer.subarray(0, end);
    if (line[line.length - 1] === 13) line = line.subarray(0, line.length - 1);
    let text = isUtf8(line) ? line.toString('utf8') : iconv.decode(line, 'win1252');
    if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
    return text.length === 0 ? [] : text.split(delimiter);
  } finally {
    closeSync(fd);
  }
}

/**
 * Second pass, for a file with bytes outside ASCII: copies it line by line to `target`, decoding
 * each line that is not valid UTF-8 from CP1252, and checks that the bytes are still those hashed.
 */
export async function decodeFile(scanned: ScannedFile, target: string): Promise<{ sha256: string; coercedLines: ScannedFile['coercedLines'] }> {
  const hash = createHash('sha256');
  const out = openSync(target, 'w');
  const coercedLines: ScannedFile['coercedLines'] = [];
  let line = 1;
  const writeLine = (bytes: Buffer) => {
    if (isUtf8(bytes)) {
      writeSync(out, bytes);
      return;
    }
    let invalid = false;
    for (const byte of bytes) if (UNDEFINED_IN_CP1252.has(byte)) invalid = true;
    coercedLines.push({ line, rule: invalid ? RULE_ENCODING_INVALID : RULE_CP1252 });
    writeSync(out, Buffer.from(iconv.decode(bytes, 'win1252'), 'utf8'));
  };
  try {
    for await (const data of lineChunks(scanned.path, (piece) => hash.update(piece))) {
      if (isAscii(data) || isUtf8(data)) {
        writeSync(out, data);
        line += countNewlines(data);
        continue;
      }
      // Lines that are UTF-8 already are copied in runs, one write per run, not one per line (a chunk holds ~40,000).
      let start = 0;
      let run = 0;
      while (start < data.length) {
        let end = data.indexOf(10, start);
        if (end < 0) end = data.length - 1;
        const bytes = data.subarray(start, end + 1);
        if (!isAscii(bytes) && !isUtf8(bytes)) {
          if (start > run) writeSync(out, data.subarray(run, start));
          writeLine(bytes);
          run = end + 1;
        }
        line++;
        start = end + 1;
      }
      if (data.length > run) writeSync(out, data.subarray(run));
    }
  } finally {
    closeSync(out);
  }
  return { sha256: hash.digest('hex'), coercedLines };
}

function countNewlines(data: Buffer): number {
  let count = 0;
  for (let index = data.indexOf(10); index >= 0; index = data.indexOf(10, index + 1)) count++;
  return count;
}

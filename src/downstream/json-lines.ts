import type { RequestId } from '@modelcontextprotocol/sdk/types.js';

const KEEP_BYTES = 256;

/** What is kept of a line that was too long: its size and its first and last bytes. */
export interface OversizedLine {
  bytes: number;
  head: string;
  tail: string;
}

/**
 * Splits a byte stream into newline-terminated lines, as MCP's stdio framing needs, but never
 * holds more than `maxLineBytes` of one line: a longer line is skipped up to its newline and
 * reported with its size and edges. (The SDK's ReadBuffer throws past 10 MB from inside the
 * stream's data handler, which would take the whole gateway down.)
 */
export class JsonLineSplitter {
  private parts: Buffer[] = [];
  private size = 0;
  private skipping: { bytes: number; head: Buffer; tail: Buffer } | undefined;

  constructor(
    private readonly maxLineBytes: number,
    private readonly onLine: (line: string) => void,
    private readonly onOversized: (line: OversizedLine) => void,
  ) {}

  push(chunk: Buffer): void {
    let offset = 0;
    while (offset < chunk.length) {
      const newline = chunk.indexOf(0x0a, offset);
      const end = newline === -1 ? chunk.length : newline;
      this.take(chunk.subarray(offset, end));
      if (newline === -1) return;
      this.endLine();
      offset = newline + 1;
    }
  }

  private take(piece: Buffer): void {
    if (piece.length === 0) return;
    if (this.skipping) {
      this.skipping.bytes += piece.length;
      this.skipping.tail = lastBytes(Buffer.concat([this.skipping.tail, piece]));
      return;
    }
    if (this.size + piece.length > this.maxLineBytes) {
      const held = Buffer.concat([...this.parts, piece]);
      this.skipping = { bytes: held.length, head: held.subarray(0, KEEP_BYTES), tail: lastBytes(held) };
      this.parts = [];
      this.size = 0;
      return;
    }
    this.parts.push(piece);
    this.size += piece.length;
  }

  private endLine(): void {
    if (this.skipping) {
      const { bytes, head, tail } = this.skipping;
      this.skipping = undefined;
      this.onOversized({ bytes, head: head.toString('utf8'), tail: tail.toString('utf8') });
      return;
    }
    const line = Buffer.concat(this.parts, this.size).toString('utf8').replace(/\r$/, '');
    this.parts = [];
    this.size = 0;
    if (line.trim() !== '') this.onLine(line);
  }
}

function lastBytes(buffer: Buffer): Buffer {
  return buffer.length <= KEEP_BYTES ? buffer : Buffer.from(buffer.subarray(buffer.length - KEEP_BYTES));
}

const ID = String.raw`"id"\s*:\s*(-?\d+|"(?:[^"\\]|\\.)*")`;
const TRAILING_ID = new RegExp(`${ID}\\s*\\}\\s*$`);
const LEADING_REQUEST_ID = new RegExp(`^\\s*\\{\\s*"jsonrpc"\\s*:\\s*"2\\.0"\\s*,\\s*${ID}\\s*,\\s*"method"\\s*:`);
const LEADING_METHOD = /^\s*\{\s*"method"\s*:/;

/** A JSON-RPC id: a string, or a whole number. */
export function isRequestId(value: unknown): value is RequestId {
  return typeof value === 'string' || (typeof value === 'number' && Number.isInteger(value));
}

/** `"id":5}` or `"id":"abc"}` at the very end of a message (the MCP SDK writes `id` last). */
export function trailingIdOf(tail: string): RequestId | undefined {
  return idFrom(TRAILING_ID.exec(tail));
}

/**
 * The id of a request known only by its first and last bytes: `{"jsonrpc":"2.0","id":5,"method":…`
 * (as most SDKs write it) or `{"method":…,"id":5}` (as the MCP SDK does). Undefined for anything
 * else, such as a response, whose id is the other side's.
 */
export function requestIdOf(head: string, tail: string): RequestId | undefined {
  return idFrom(LEADING_REQUEST_ID.exec(head)) ?? (LEADING_METHOD.test(head) ? trailingIdOf(tail) : undefined);
}

function idFrom(match: RegExpExecArray | null): RequestId | undefined {
  if (!match) return undefined;
  const raw = match[1]!;
  return raw.startsWith('"') ? (JSON.parse(raw) as string) : Number(raw);
}

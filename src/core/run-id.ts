import { randomBytes } from 'node:crypto';

/**
 * A run id: a UUIDv7 (RFC 9562), whose first 48 bits are the start time in milliseconds. Ids
 * made later sort later, so the runs table's primary key grows at its end instead of at random
 * pages, and an id says roughly when its call began.
 */
export function newRunId(nowMs: number = Date.now()): string {
  const bytes = randomBytes(16);
  bytes.writeUIntBE(nowMs, 0, 6);
  bytes[6] = (bytes[6]! & 0x0f) | 0x70;
  bytes[8] = (bytes[8]! & 0x3f) | 0x80;
  const hex = bytes.toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

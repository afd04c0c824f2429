import { test } from 'node:test';
import assert from 'node:assert/strict';
import { newRunId } from '../src/core/run-id.js';

test('run ids are UUIDv7: version 7, RFC 9562 variant, the start time in the first 48 bits, unique, sorted by time', () => {
  const at = Date.UTC(2026, 10, 25, 12, 0, 0, 123);
  const id = newRunId(at);
  assert.match(id, /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  assert.equal(parseInt(id.replace(/-/g, '').slice(0, 12), 16), at);
  const many = new Set(Array.from({ length: 10_000 }, () => newRunId(at)));
  assert.equal(many.size, 10_000, 'random bits differ within one millisecond');
  assert.ok(newRunId(at) < newRunId(at + 1), 'a later millisecond sorts later');
  assert.ok(newRunId(0).startsWith('00000000-0000-7'));
});

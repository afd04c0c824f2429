import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseSince } from '../src/cli/since.js';

const NOW = new Date('2025-06-15T12:00:00.000Z');

test('--since takes a duration back from now or an ISO-8601 date or date-time', () => {
  assert.equal(parseSince('90s', NOW), '2025-06-15T11:58:30.000Z');
  assert.equal(parseSince('24h', NOW), '2025-06-14T12:00:00.000Z');
  assert.equal(parseSince('0d', NOW), NOW.toISOString());
  assert.equal(parseSince('2024-02-29', NOW), '2024-02-29T00:00:00.000Z');
  assert.equal(parseSince('2024-03-01T10:00:00Z', NOW), '2024-03-01T10:00:00.000Z');
  assert.equal(parseSince('2024-03-01T10:00+02:00', NOW), '2024-03-01T08:00:00.000Z');
  assert.equal(parseSince('2024-03-01T10:00:00.250-0130', NOW), '2024-03-01T11:30:00.250Z');
  assert.equal(parseSince('2024-03-01 10:00Z', NOW), '2024-03-01T10:00:00.000Z');
});

test('--since refuses what is not a real date or a duration, and a duration beyond the calendar', () => {
  const refused = [
    '5', // Date.parse: May 2001
    '0', // Date.parse: 2000
    'March 7', // Date.parse: 2001-03-07
    '2024-02-30', // Date.parse: 2024-03-01
    '2023-02-29',
    '2024-13-01',
    '2024-04-31',
    '2024-03-01T24:00Z',
    '2024-03-01T10:60Z',
    '2024-03-01T10:00+25:00',
    '2024-3-1',
    'Fri, 01 Mar 2024 10:00:00 GMT',
    '99999999999d', // before the first day a Date can hold
    '1e3d',
    '-5m',
    '',
  ];
  for (const value of refused) {
    assert.throws(
      () => parseSince(value, NOW),
      (error: Error & { code?: string }) => error.code === 'GH_INVALID_ARGUMENTS' && error.message === `--since: "${value}" is neither an ISO-8601 time nor a duration such as 30m, 24h, 7d`,
      value,
    );
  }
});

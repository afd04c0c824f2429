import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { ERROR_CODES } from '../src/core/errors.js';
import { EVENT_TYPES } from '../src/core/events.js';
import { REPO } from './helpers/gatehouse.js';

/** The first-column code spans of a docs table: `| \`name\` | …`. */
function tableNames(file: string): string[] {
  return [...readFileSync(path.join(REPO, 'docs', file), 'utf8').matchAll(/^\| `([^`]+)` \|/gm)].map((match) => match[1]!);
}

test('docs/events.md documents exactly the event types of src/core/events.ts', () => {
  assert.deepEqual(tableNames('events.md').sort(), [...EVENT_TYPES].sort());
});

test('docs/errors.md documents every error code', () => {
  const documented = new Set(tableNames('errors.md'));
  assert.deepEqual(Object.keys(ERROR_CODES).filter((code) => !documented.has(code)), []);
});

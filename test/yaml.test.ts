import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseYaml, toYaml } from '../src/config/yaml.js';

test('parseYaml reads the YAML 1.2 core schema: dates stay strings, `<<` is a key, `yes` is a string', () => {
  assert.deepEqual(parseYaml('version: 2025-06-18\nflag: yes\nmode: 0o17\nnone: ~\n<<: { e: 1 }\n'), {
    version: '2025-06-18',
    flag: 'yes',
    mode: 15,
    none: null,
    '<<': { e: 1 },
  });
});

test('parseYaml names the line and column of a syntax error and of a duplicate key', () => {
  assert.throws(() => parseYaml('servers:\n  a: [1, 2\n  b: 3\n'), /\(3:3\)/);
  assert.throws(() => parseYaml('servers:\n  a: 1\n  a: 2\n'), /duplicated mapping key \(3:3\)/);
});

test('toYaml round-trips, leaves undefined properties out and does not fold long lines', () => {
  const long = 'x'.repeat(300);
  const value = { name: 'gatehouse', when: '2025-06-18', list: [1, 'two'], nested: { long, gone: undefined } };
  const text = toYaml(value);
  assert.ok(text.includes(long), 'the long string is on one line');
  assert.deepEqual(parseYaml(text), { name: 'gatehouse', when: '2025-06-18', list: [1, 'two'], nested: { long } });
});

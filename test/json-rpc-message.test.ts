import { test } from 'node:test';
import assert from 'node:assert/strict';
import { JSONRPCMessageSchema } from '@modelcontextprotocol/sdk/types.js';
import { jsonRpcMessageOf } from '../src/downstream/json-rpc-message.js';
import { mutate, pick, randomValue, RawJson, seededRandom, templates } from './helpers/json-rpc-fuzz.js';

/** JSON with keys sorted: the schema puts its declared keys first, the fast path keeps the input's order. */
function sortedJson(value: unknown): string {
  return JSON.stringify(value, (_key, inner: unknown) =>
    inner && typeof inner === 'object' && !Array.isArray(inner) ? Object.fromEntries(Object.entries(inner).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) : inner,
  );
}

/** Values the generators rarely make: the edges of what the schema accepts. */
const EDGES: unknown[] = [
  { jsonrpc: '2.0', id: 2 ** 53, method: 'ping' },
  { jsonrpc: '2.0', id: Number.MAX_SAFE_INTEGER, method: 'ping' },
  { jsonrpc: '2.0', id: 1.5, result: {} },
  { jsonrpc: '2.0', id: 1, method: 'x', params: [] },
  { jsonrpc: '2.0', id: 1, method: 'x', params: null },
  { jsonrpc: '2.0', id: 1, method: 'x', params: { _meta: { progressToken: 7 } } },
  { jsonrpc: '2.0', id: 1, method: 'x', params: { _meta: { progressToken: 1.5 } } },
  { jsonrpc: '2.0', id: 1, method: 'x', params: { _meta: { 'io.modelcontextprotocol/related-task': { taskId: 't', extra: 1 } } } },
  { jsonrpc: '2.0', id: 1, result: { _meta: { progressToken: 'p' }, content: [] } },
  { jsonrpc: '2.0', id: 1, result: [] },
  { jsonrpc: '2.0', id: 1, result: null },
  { jsonrpc: '2.0', id: 1, method: 'x', result: {} },
  { jsonrpc: '2.0', id: 1, error: { code: -1, message: 'm', extra: true } },
  { jsonrpc: '2.0', error: { code: -1, message: 'm' } },
  { jsonrpc: '2.0', result: {} },
  { jsonrpc: '2.0', method: 7 },
  { jsonrpc: '2.0', id: 1, method: 'x', params: { a: 1 }, extra: 1 },
  JSON.parse('{"jsonrpc":"2.0","id":1,"method":"x","__proto__":{"a":1}}'),
  JSON.parse('{"jsonrpc":"2.0","method":"x","params":{"__proto__":{"a":1}}}'),
  Object.create({ jsonrpc: '2.0', id: 1, method: 'inherited' }),
];

test('jsonRpcMessageOf agrees with the SDK schema on every value: the verdict, and the message it passes on', () => {
  const random = seededRandom(20261126);
  const values: unknown[] = [...EDGES];
  for (let i = 0; i < 20_000; i += 1) {
    const template = pick(random, templates(random, 'fuzz__tool'));
    const roll = random();
    values.push(roll < 0.3 ? template : roll < 0.8 ? mutate(random, template) : randomValue(random));
  }
  let accepted = 0;
  for (const value of values) {
    if (value instanceof RawJson) continue;
    const expected = JSONRPCMessageSchema.safeParse(value);
    const actual = jsonRpcMessageOf(value);
    assert.equal(actual !== undefined, expected.success, `verdict differs for ${JSON.stringify(value)?.slice(0, 300)}`);
    if (!expected.success) continue;
    accepted += 1;
    assert.equal(sortedJson(actual), sortedJson(expected.data), `message differs for ${JSON.stringify(value).slice(0, 300)}`);
  }
  // The corpus must hold both kinds in numbers, or the comparison proves little.
  assert.ok(accepted > 4_000 && accepted < values.length - 4_000, `accepted ${accepted} of ${values.length}`);
});

test('common messages are passed on as they are, not copied', () => {
  const call = { jsonrpc: '2.0', id: 3, method: 'tools/call', params: { name: 'a__b', arguments: { x: [1, { y: 2 }] } } };
  const result = { jsonrpc: '2.0', id: 'r1', result: { content: [{ type: 'text', text: 'ok' }], isError: false } };
  const notification = { jsonrpc: '2.0', method: 'notifications/initialized' };
  for (const message of [call, result, notification]) assert.equal(jsonRpcMessageOf(message), message);
});

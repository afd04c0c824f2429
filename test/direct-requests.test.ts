import { test } from 'node:test';
import assert from 'node:assert/strict';
import { InMemoryTransport } from '@modelcontextprotocol/sdk/inMemory.js';
import { CallToolResultSchema, ErrorCode, McpError, type JSONRPCMessage } from '@modelcontextprotocol/sdk/types.js';
import { cancellationOf } from '../src/core/cancellation.js';
import { DirectRequests } from '../src/downstream/direct-requests.js';

// The direct tools/call path (src/downstream/direct-requests.ts) against a hand-driven server end:
// each ending it shares with the SDK's Client.request, and what it leaves to the SDK.

async function pair(): Promise<{ direct: DirectRequests; server: InMemoryTransport; received: JSONRPCMessage[]; passedOn: JSONRPCMessage[] }> {
  const [client, server] = InMemoryTransport.createLinkedPair();
  const received: JSONRPCMessage[] = [];
  const passedOn: JSONRPCMessage[] = [];
  server.onmessage = (message) => void received.push(message);
  client.onmessage = (message) => void passedOn.push(message); // what the SDK's Protocol would get
  await client.start();
  await server.start();
  return { direct: new DirectRequests(client), server, received, passedOn };
}

const call = { method: 'tools/call', params: { name: 'echo', arguments: { message: 'x' } } };
const tick = () => new Promise((resolve) => setImmediate(resolve));

test('a result is parsed with the caller\'s schema; a malformed one is refused, an error response is an McpError', async () => {
  const { direct, server, received } = await pair();
  const ok = direct.request(call, CallToolResultSchema, { timeout: 5_000 });
  await tick();
  const [sent] = received as Array<{ id: string; method: string }>;
  assert.match(sent!.id, /^gh-\d+$/, 'a string id, never one of the SDK\'s numbers');
  assert.equal(sent!.method, 'tools/call');
  await server.send({ jsonrpc: '2.0', id: sent!.id, result: { content: [{ type: 'text', text: 'x' }] } });
  assert.deepEqual((await ok).content, [{ type: 'text', text: 'x' }]);

  const malformed = direct.request(call, CallToolResultSchema, { timeout: 5_000 });
  await tick();
  await server.send({ jsonrpc: '2.0', id: (received[1] as { id: string }).id, result: { content: 'not a list' } });
  await assert.rejects(malformed, (error: Error) => error.name === 'ZodError');

  const refused = direct.request(call, CallToolResultSchema, { timeout: 5_000 });
  await tick();
  await server.send({ jsonrpc: '2.0', id: (received[2] as { id: string }).id, error: { code: -32602, message: 'bad', data: { why: 1 } } });
  await assert.rejects(refused, (error: unknown) => error instanceof McpError && error.code === -32602 && (error.data as { why: number }).why === 1);
});

test('a timeout and an abort each send notifications/cancelled for the request and reject it as the SDK does', async () => {
  const { direct, received } = await pair();
  const timedOut = direct.request(call, CallToolResultSchema, { timeout: 50 });
  await assert.rejects(timedOut, (error: unknown) => error instanceof McpError && error.code === ErrorCode.RequestTimeout && (error.data as { timeout: number }).timeout === 50);
  const controller = new AbortController();
  const aborted = direct.request(call, CallToolResultSchema, { timeout: 5_000, cancel: cancellationOf(controller.signal) });
  await tick();
  controller.abort('the agent cancelled');
  await assert.rejects(aborted, (error: unknown) => error instanceof McpError && /the agent cancelled/.test(error.message));
  await tick();
  const ids = received.filter((message) => 'id' in message).map((message) => (message as { id: string }).id);
  const cancelled = received.filter((message) => 'method' in message && message.method === 'notifications/cancelled').map((message) => (message as unknown as { params: { requestId: string } }).params.requestId);
  assert.deepEqual(cancelled, ids);
  await assert.rejects(direct.request(call, CallToolResultSchema, { timeout: 5_000, cancel: cancellationOf(controller.signal) }), /the agent cancelled/, 'an aborted signal refuses at once');
});

test('a lost connection fails every request waiting; responses that are not its own go on to the SDK', async () => {
  const { direct, server, passedOn } = await pair();
  const waiting = [direct.request(call, CallToolResultSchema, { timeout: 5_000 }), direct.request(call, CallToolResultSchema, { timeout: 5_000 })];
  await server.send({ jsonrpc: '2.0', id: 7, result: {} });
  await server.send({ jsonrpc: '2.0', id: 'someone-else', result: {} });
  await server.send({ jsonrpc: '2.0', method: 'notifications/message', params: { level: 'info', data: 'x' } });
  assert.equal(passedOn.length, 3);
  direct.closed();
  for (const request of waiting) await assert.rejects(request, (error: unknown) => error instanceof McpError && error.code === ErrorCode.ConnectionClosed);
});

test('a plain text result is taken as it is, anything else is parsed: either way the caller gets what the schema makes of it', async () => {
  const { direct, server, received } = await pair();
  const results: unknown[] = [
    { content: [{ type: 'text', text: 'x' }] },
    { content: [{ type: 'text', text: 'a' }, { type: 'text', text: '' }], isError: true },
    { content: [] },
    { content: [{ type: 'text', text: 'x', extra: 1 }] }, // the schema strips the extra key
    { content: [{ type: 'text', text: 5 }] },
    { content: [{ type: 'image', data: 'AA==', mimeType: 'image/png' }] },
    { content: [{ type: 'text', text: 'x' }], isError: 'yes' },
    { content: [{ type: 'text', text: 'x' }], structuredContent: { n: 1 } },
    { content: [{ type: 'text', text: 'x' }], other: 'kept' },
    { content: [{ type: 'text', text: 'x' }], structuredContent: 'not an object' },
    { content: [{ type: 'text', text: 'x' }], _meta: 'not an object' },
    { content: [null] },
    {},
  ];
  for (const [i, result] of results.entries()) {
    const answer = direct.request(call, CallToolResultSchema, { timeout: 5_000 }).then(
      (value) => ({ value }),
      () => ({ refused: true }),
    );
    await tick();
    await server.send({ jsonrpc: '2.0', id: (received[i] as { id: string }).id, result } as JSONRPCMessage);
    const parsed = CallToolResultSchema.safeParse(result);
    assert.deepEqual(await answer, parsed.success ? { value: parsed.data } : { refused: true }, JSON.stringify(result));
  }
});

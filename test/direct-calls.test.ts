import { test } from 'node:test';
import assert from 'node:assert/strict';
import { InMemoryTransport } from '@modelcontextprotocol/sdk/inMemory.js';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { Server } from '@modelcontextprotocol/sdk/server/index.js';
import {
  CallToolRequestSchema,
  ElicitRequestSchema,
  ElicitResultSchema,
  ErrorCode,
  LoggingMessageNotificationSchema,
  McpError,
  type JSONRPCMessage,
} from '@modelcontextprotocol/sdk/types.js';
import { answerPlainToolCalls, type ToolCallHandler } from '../src/transports/direct-calls.js';

// The upstream direct tools/call path (src/transports/direct-calls.ts) between a real SDK Client
// and Server: which calls take it, and each ending it shares with the SDK's own request handling.

async function pair(
  direct: ToolCallHandler,
): Promise<{ client: Client; server: Server; sent: JSONRPCMessage[]; relatedTo: Map<JSONRPCMessage, unknown>; controllers: Map<unknown, AbortController> }> {
  const [clientEnd, serverEnd] = InMemoryTransport.createLinkedPair();
  const server = new Server({ name: 's', version: '1' }, { capabilities: { tools: {}, logging: {} } });
  server.setRequestHandler(CallToolRequestSchema, async () => ({ content: [{ type: 'text', text: 'by the SDK' }] }));
  const sent: JSONRPCMessage[] = [];
  const relatedTo = new Map<JSONRPCMessage, unknown>();
  const send = serverEnd.send.bind(serverEnd);
  serverEnd.send = (message, options) => {
    sent.push(message);
    relatedTo.set(message, options?.relatedRequestId);
    return send(message, options);
  };
  await server.connect(serverEnd);
  assert.equal(answerPlainToolCalls(server, serverEnd, direct), true);
  const client = new Client({ name: 'c', version: '1' }, { capabilities: { elicitation: {} } });
  await client.connect(clientEnd);
  sent.length = 0; // the answer to initialize
  const controllers = (server as unknown as { _requestHandlerAbortControllers: Map<unknown, AbortController> })._requestHandlerAbortControllers;
  return { client, server, sent, relatedTo, controllers };
}

const text = (result: object) => ((result as { content?: unknown }).content as Array<{ text: string }>)[0]!.text;
const tick = () => new Promise((resolve) => setImmediate(resolve));

test('a plain call is answered by the direct handler; one with _meta, and a tools/call notification, are left to the SDK', async () => {
  const seen: unknown[] = [];
  const { client, sent } = await pair(async (request) => {
    seen.push(request.params);
    return { content: [{ type: 'text', text: `direct ${request.params.name}` }] };
  });
  assert.equal(text(await client.callTool({ name: 'a', arguments: { x: 1 } })), 'direct a');
  assert.equal(text(await client.callTool({ name: 'b' })), 'direct b');
  assert.equal(text(await client.callTool({ name: 'c', arguments: {} }, undefined, { onprogress: () => undefined })), 'by the SDK', 'with a progressToken in _meta');
  assert.deepEqual(seen, [{ name: 'a', arguments: { x: 1 } }, { name: 'b' }]);
  const before = sent.length;
  await client.notification({ method: 'tools/call', params: { name: 'd' } } as never);
  await tick();
  assert.equal(sent.length, before, 'nothing answers a notification');
  assert.equal(seen.length, 2);
});

test('a thrown error is answered as the SDK answers it: its code and data, or -32603', async () => {
  let fail: Error = new Error('unused');
  const { client } = await pair(async () => {
    throw fail;
  });
  fail = new McpError(ErrorCode.InvalidParams, 'bad name', { why: 'x' });
  await assert.rejects(client.callTool({ name: 'a' }), (error: unknown) => error instanceof McpError && error.code === ErrorCode.InvalidParams && (error.data as { why: string }).why === 'x');
  fail = new Error('it broke');
  await assert.rejects(client.callTool({ name: 'a' }), (error: unknown) => error instanceof McpError && error.code === ErrorCode.InternalError && /it broke/.test(error.message));
});

test('notifications/cancelled aborts the handler, which then gets no answer sent and may not ask the client anything', async () => {
  let aborted: Promise<unknown> = Promise.resolve();
  let askAfterAbort: Promise<unknown> = Promise.resolve();
  const { client, sent, controllers } = await pair(async (_request, extra) => {
    aborted = new Promise((resolve) => extra.signal.addEventListener('abort', () => resolve(extra.signal.reason), { once: true }));
    await aborted;
    askAfterAbort = extra.sendRequest({ method: 'elicitation/create', params: { message: 'm', requestedSchema: { type: 'object', properties: {} } } }, ElicitResultSchema);
    return { content: [{ type: 'text', text: 'too late' }] };
  });
  const controller = new AbortController();
  const call = client.callTool({ name: 'a' }, undefined, { signal: controller.signal });
  await tick();
  assert.equal(controllers.size, 1, 'the controller is in the Protocol\'s map while the call runs');
  controller.abort('changed my mind');
  await assert.rejects(call);
  assert.match(String(await aborted), /changed my mind/);
  await assert.rejects(askAfterAbort, (error: unknown) => error instanceof McpError && error.code === ErrorCode.ConnectionClosed);
  await tick();
  assert.equal(sent.filter((message) => 'result' in message || 'error' in message).length, 0, 'no answer to a cancelled call');
  assert.equal(controllers.size, 0, 'and its controller is gone');
});

test('requests and notifications the handler sends reach the client, tied to the call', async () => {
  const { client, sent, relatedTo } = await pair(async (_request, extra) => {
    await extra.sendNotification({ method: 'notifications/message', params: { level: 'info', data: 'working' } });
    const answer = await extra.sendRequest({ method: 'elicitation/create', params: { message: 'name?', requestedSchema: { type: 'object', properties: {} } } }, ElicitResultSchema);
    return { content: [{ type: 'text', text: `got ${answer.action}` }] };
  });
  const logs: unknown[] = [];
  client.setNotificationHandler(LoggingMessageNotificationSchema, (notification) => void logs.push(notification.params.data));
  client.setRequestHandler(ElicitRequestSchema, async (request) => ({ action: request.params.message === 'name?' ? 'accept' : 'decline', content: {} }));
  assert.equal(text(await client.callTool({ name: 'a' })), 'got accept');
  assert.deepEqual(logs, ['working']);
  const callId = (sent.find((message) => 'result' in message) as { id: unknown }).id;
  const asked = sent.filter((message) => 'method' in message && ['elicitation/create', 'notifications/message'].includes(message.method));
  assert.equal(asked.length, 2);
  for (const message of asked) assert.equal(relatedTo.get(message), callId, `${(message as { method: string }).method} travels on the call's request`);
});

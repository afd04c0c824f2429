import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { InMemoryTransport } from '@modelcontextprotocol/sdk/inMemory.js';
import { Server } from '@modelcontextprotocol/sdk/server/index.js';
import type { Transport } from '@modelcontextprotocol/sdk/shared/transport.js';
import { CallToolRequestSchema, ErrorCode, ListToolsRequestSchema, McpError, ToolListChangedNotificationSchema } from '@modelcontextprotocol/sdk/types.js';
import { dispatchByShape } from '../src/downstream/dispatch-by-shape.js';

/** A server and a client of the SDK over a linked in-memory pair, both dispatching by shape. */
async function connectedPair() {
  const server = new Server({ name: 's', version: '1' }, { capabilities: { tools: { listChanged: true } } });
  server.setRequestHandler(ListToolsRequestSchema, async () => ({ tools: [{ name: 'slow', inputSchema: { type: 'object' } }] }));
  server.setRequestHandler(CallToolRequestSchema, async (request, extra) => {
    if (request.params.name !== 'slow') throw new McpError(ErrorCode.InvalidParams, `no tool ${request.params.name}`);
    await extra.sendNotification({ method: 'notifications/progress', params: { progressToken: extra._meta?.progressToken ?? 0, progress: 1, total: 2 } });
    return { content: [{ type: 'text', text: 'done' }] };
  });
  const client = new Client({ name: 'c', version: '1' });
  const [clientSide, serverSide] = InMemoryTransport.createLinkedPair();
  await server.connect(serverSide);
  await client.connect(clientSide);
  return { server, client, serverSide, clientSide, installed: [dispatchByShape(server, serverSide), dispatchByShape(client, clientSide)] };
}

describe('dispatchByShape', () => {
  test('takes over from the SDK Protocol of the version installed (an upgrade that renamed its handlers shows here)', async () => {
    const { client, installed } = await connectedPair();
    assert.deepEqual(installed, [true, true]);
    await client.close();
  });

  test('requests, results, error responses and notifications reach their handlers both ways', async () => {
    const { server, client } = await connectedPair();
    const listed = await client.listTools();
    assert.deepEqual(listed.tools.map((tool) => tool.name), ['slow']);

    const progress: number[] = [];
    const result = await client.callTool({ name: 'slow', arguments: {} }, undefined, { onprogress: (update) => progress.push(update.progress) });
    assert.deepEqual(result.content, [{ type: 'text', text: 'done' }]);
    assert.deepEqual(progress, [1], 'a notification in the middle of a request reached the client');

    // The server's McpError goes back as a JSON-RPC error response.
    await assert.rejects(client.callTool({ name: 'other', arguments: {} }), (error: McpError) => error.code === ErrorCode.InvalidParams && /no tool other/.test(error.message));
    await assert.rejects(client.request({ method: 'resources/list' }, ListToolsRequestSchema), (error: McpError) => error.code === ErrorCode.MethodNotFound);

    const changed = new Promise<void>((resolve) => client.setNotificationHandler(ToolListChangedNotificationSchema, () => resolve()));
    await server.sendToolListChanged();
    await changed;
    await client.close();
  });

  test('a response to no request is reported to onerror, as by the SDK', async () => {
    const { client, clientSide, serverSide } = await connectedPair();
    const errors: Error[] = [];
    client.onerror = (error) => errors.push(error);
    await serverSide.send({ jsonrpc: '2.0', id: 999, result: {} });
    await new Promise((resolve) => setImmediate(resolve));
    assert.match(errors[0]?.message ?? '', /Received a response for an unknown message ID/);
    assert.ok(clientSide.onmessage);
    await client.close();
  });

  test('a protocol without the handlers keeps the SDK dispatcher and says so', () => {
    const transport = { onmessage: () => undefined } as unknown as Transport;
    const before = transport.onmessage;
    assert.equal(dispatchByShape({} as never, transport), false);
    assert.equal(transport.onmessage, before);
  });
});

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { InMemoryTransport } from '@modelcontextprotocol/sdk/inMemory.js';
import type { JSONRPCMessage } from '@modelcontextprotocol/sdk/types.js';
import { checkToolDefinitions } from '../src/downstream/tool-definitions.js';
import { keepNotificationsBeforeResponses } from '../src/downstream/notification-order.js';
import { ProcessTransport } from '../src/downstream/process-transport.js';

/** How the gateway reads a downstream server: the order of what it sent, and lines that are not messages. */

test('the last progress notification of a call, arriving in one read with the result, reaches the caller before it', async () => {
  const [gatewaySide, serverSide] = InMemoryTransport.createLinkedPair();
  // A server that writes its last progress and its result back to back, as one stdout chunk would deliver them.
  serverSide.onmessage = (message) => {
    if (!('method' in message) || !('id' in message)) return;
    if (message.method === 'initialize') {
      void serverSide.send({ jsonrpc: '2.0', id: message.id, result: { protocolVersion: String(message.params?.protocolVersion), capabilities: { tools: {} }, serverInfo: { name: 'back-to-back', version: '1.0.0' } } });
    } else if (message.method === 'tools/call') {
      const progressToken = (message.params?._meta as { progressToken: string | number }).progressToken;
      void serverSide.send({ jsonrpc: '2.0', method: 'notifications/progress', params: { progressToken, progress: 1, total: 1 } });
      void serverSide.send({ jsonrpc: '2.0', id: message.id, result: { content: [{ type: 'text', text: 'done' }] } });
    }
  };
  await serverSide.start();
  const client = new Client({ name: 'gateway', version: '1.0.0' });
  await client.connect(gatewaySide);
  keepNotificationsBeforeResponses(gatewaySide);
  try {
    const seen: number[] = [];
    await client.callTool({ name: 'work', arguments: {} }, undefined, { onprogress: (progress) => void seen.push(progress.progress) });
    assert.deepEqual(seen, [1]);
  } finally {
    await client.close();
  }
});

test('a server line shaped like a request but not valid JSON-RPC is reported, never taken as the answer to one of our requests', async () => {
  const lines = [
    { jsonrpc: '2.0', id: 1, method: 7 }, // a request of the server's own, malformed: its id is not one of ours
    { jsonrpc: '2.0', id: 2, result: {}, error: { code: 1, message: 'both' } }, // a malformed answer to our request 2
  ];
  const transport = new ProcessTransport({
    command: process.execPath,
    args: ['-e', `process.stdout.write(${JSON.stringify(lines.map((line) => JSON.stringify(line)).join('\n') + '\n')})`],
    env: {},
    cwd: undefined,
    maxMessageBytes: 10_000,
    onStderr: () => undefined,
  });
  const messages: JSONRPCMessage[] = [];
  const errors: string[] = [];
  transport.onmessage = (message) => void messages.push(message);
  transport.onerror = (error) => void errors.push(error.message);
  const closed = new Promise<void>((resolve) => (transport.onclose = resolve));
  await transport.start();
  await closed;
  assert.deepEqual(messages.map((message) => ('id' in message ? message.id : null)), [2], 'only the answer to request 2 fails it');
  assert.match(JSON.stringify(messages[0]), /GH_DOWNSTREAM_INVALID/);
  assert.equal(errors.length, 1, errors.join('\n'));
  assert.match(errors[0]!, /JSON that is not a JSON-RPC message: \{"jsonrpc":"2.0","id":1,"method":7\}/);
});

test('tool definitions that are not valid MCP are left out and named, by name or else by their place in the list', () => {
  const { tools, rejected } = checkToolDefinitions([
    { name: 'good', inputSchema: { type: 'object' } },
    { name: 'flat', inputSchema: { type: 'string' } },
    { description: 'no name', inputSchema: { type: 'object' } },
  ]);
  assert.deepEqual(tools.map((tool) => tool.name), ['good']);
  assert.deepEqual(rejected.map((bad) => bad.name), ['flat', '#2']);
  assert.match(rejected[0]!.problem, /^inputSchema\.type: /);
  assert.match(rejected[1]!.problem, /^name: /);
});

/** Whether a process is gone (or only a zombie left for its reaper). */
function gone(pid: number): boolean {
  try {
    return readFileSync(`/proc/${pid}/stat`, 'utf8').replace(/^.*\) /s, '').startsWith('Z');
  } catch {
    return true;
  }
}

test('closing a server whose process has exited still stops what it left running in its process group', async () => {
  let stderr = '';
  const transport = new ProcessTransport({
    command: '/bin/sh',
    args: ['-c', 'sleep 300 </dev/null >/dev/null 2>&1 & echo $! >&2'],
    env: {},
    cwd: undefined,
    maxMessageBytes: 10_000,
    onStderr: (chunk) => void (stderr += chunk.toString()),
  });
  const exited = new Promise<void>((resolve) => (transport.onclose = resolve));
  await transport.start();
  await exited;
  const leftover = Number(stderr.trim());
  assert.ok(leftover > 0 && !gone(leftover), `a leftover sleep: ${stderr}`);
  try {
    await transport.close();
    for (let waited = 0; !gone(leftover) && waited < 5000; waited += 50) await new Promise((resolve) => setTimeout(resolve, 50));
    assert.ok(gone(leftover), 'the leftover of the group was killed');
  } finally {
    if (!gone(leftover)) process.kill(leftover, 'SIGKILL');
  }
});

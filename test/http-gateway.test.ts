import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { CallToolResultSchema, CreateMessageRequestSchema, ElicitRequestSchema, ErrorCode, McpError } from '@modelcontextprotocol/sdk/types.js';
import { openSqlite } from '../src/adapters/sqlite/database.js';
import { SqliteEventStore } from '../src/adapters/sqlite/event-store.js';
import { childProcesses, CLI, TEST_ENV, httpClient, standardConfig, startServe, tempConfig, text, TOKENS, waitFor, type RunningGateway } from './helpers/gatehouse.js';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { connect as connectTcp } from 'node:net';

/** http.requestTimeoutMs of the gateway under test. */
const STALLED_REQUEST_MS = 1_500;

describe('gatehouse serve (streamable HTTP) with real reference servers', () => {
  let temp: ReturnType<typeof tempConfig>;
  let gateway: RunningGateway;
  const clients: Client[] = [];

  before(async () => {
    // A short request timeout, for the stalled-request test (a whole request takes milliseconds).
    temp = tempConfig(standardConfig({ http: { requestTimeoutMs: STALLED_REQUEST_MS } }));
    gateway = await startServe(temp.configPath);
  });
  after(async () => {
    await Promise.all(clients.map((client) => client.close().catch(() => undefined)));
    await gateway.stop();
    temp.cleanup();
  });

  async function connect(profile: string, token: string, capabilities = {}): Promise<Client> {
    const client = await httpClient(gateway.url, profile, token, capabilities);
    clients.push(client);
    return client;
  }

  test('an eager profile lists every allowed tool as server__tool and calls one', async () => {
    const client = await connect('builder', TOKENS.alice);
    const { tools } = await client.listTools();
    const names = tools.map((tool) => tool.name);
    assert.ok(names.includes('everything__echo'));
    assert.ok(names.includes('filesystem__read_text_file'));
    assert.ok(names.includes('memory__read_graph'));
    assert.ok(names.every((name) => /^(everything|filesystem|memory)__/.test(name)), names.join(','));
    const result = await client.callTool({ name: 'everything__echo', arguments: { message: 'hello over http' } });
    assert.equal(text(result), 'Echo: hello over http');
  });

  test('a narrow profile sees only its allowlist and a call outside it names the profile, revealing nothing', async () => {
    const client = await connect('narrow', TOKENS.bob);
    const names = (await client.listTools()).tools.map((tool) => tool.name).sort();
    assert.deepEqual(names, ['everything__echo', 'filesystem__read_file', 'filesystem__read_media_file', 'filesystem__read_multiple_files', 'filesystem__read_text_file']);
    const existing = await client.callTool({ name: 'everything__get-sum', arguments: { a: 1, b: 2 } }).catch((error: Error) => error);
    const missing = await client.callTool({ name: 'everything__no-such-tool', arguments: {} }).catch((error: Error) => error);
    assert.ok(existing instanceof Error);
    assert.ok(missing instanceof Error);
    assert.match(existing.message, /not available in profile "narrow"/);
    // The same answer for a tool that exists outside the profile and one that does not exist at all.
    assert.equal(existing.message.replace('get-sum', 'X'), missing.message.replace('no-such-tool', 'X'));
  });

  test('invalid arguments are refused by the gateway with the schema problem', async () => {
    const client = await connect('builder', TOKENS.alice);
    const result = await client.callTool({ name: 'everything__get-sum', arguments: { a: 'one', b: 2 } });
    assert.equal(result.isError, true);
    assert.match(text(result), /^GH_INVALID_ARGUMENTS: .*get-sum.*a.*number/);
  });

  test('params that do not fit the method are invalid params naming the field; protocol errors say their code once', async () => {
    const client = await connect('builder', TOKENS.alice);
    const refused = (method: string, params: unknown) =>
      client.request({ method, params } as never, CallToolResultSchema).then(
        () => assert.fail(`${method} was answered`),
        (error: McpError) => error,
      );
    // A model that sends its arguments as a JSON string: left to the SDK, an internal error carrying zod's issues as JSON.
    const stringArguments = await refused('tools/call', { name: 'everything__echo', arguments: '{"message":"x"}' });
    assert.equal(stringArguments.code, ErrorCode.InvalidParams);
    assert.equal(stringArguments.message, 'MCP error -32602: invalid params for tools/call: params.arguments: expected record, received string');
    const noUri = await refused('resources/read', {});
    assert.equal(noUri.code, ErrorCode.InvalidParams);
    assert.equal(noUri.message, 'MCP error -32602: invalid params for resources/read: params.uri: expected string, received undefined');
    const badLevel = await refused('logging/setLevel', { level: 'loud' });
    assert.equal(badLevel.code, ErrorCode.InvalidParams);
    assert.match(badLevel.message, /^MCP error -32602: invalid params for logging\/setLevel: params\.level: /);
    // The gateway's own protocol errors, and a downstream server's passed through, once-prefixed.
    const unknown = await client.callTool({ name: 'everything__no-such-tool', arguments: {} }).catch((error: McpError) => error);
    assert.equal((unknown as McpError).message, 'MCP error -32602: tool "everything__no-such-tool" is not available in profile "builder"');
    const downstream = await client.getPrompt({ name: 'everything__args-prompt', arguments: {} }).catch((error: McpError) => error);
    assert.equal((downstream as McpError).code, ErrorCode.InvalidParams);
    assert.match((downstream as McpError).message, /^MCP error -32602: Invalid arguments for prompt args-prompt: .*city/);
    // The session is still good.
    assert.equal(text(await client.callTool({ name: 'everything__echo', arguments: { message: 'still here' } })), 'Echo: still here');
  });

  test('unknown token 401, other profile 403, bad Host 403, bad Origin 403, oversized body 413', async () => {
    const init = { jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 't', version: '1' } } };
    const post = (profile: string, headers: Record<string, string>, body: string = JSON.stringify(init)) =>
      fetch(`${gateway.url}/mcp/${profile}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream', ...headers },
        body,
      });
    const anonymous = await post('builder', {});
    assert.equal(anonymous.status, 401);
    assert.equal(anonymous.headers.get('www-authenticate'), 'Bearer realm="gatehouse"', 'a 401 says how to authenticate');
    assert.equal((await post('builder', { authorization: 'Bearer not-a-token' })).status, 401);
    const lowercase = await post('builder', { authorization: `bearer ${TOKENS.alice}` });
    assert.equal(lowercase.status, 200, 'the scheme is case-insensitive (RFC 9110)');
    await lowercase.body?.cancel();
    assert.equal((await post('builder', { authorization: `Bearer ${TOKENS.bob}` })).status, 403);
    assert.equal((await post('builder', { authorization: `Bearer ${TOKENS.alice}`, origin: 'http://evil.example' })).status, 403);
    // fetch will not forge Host, so use node:http for the DNS-rebinding case.
    const { request } = await import('node:http');
    const port = new URL(gateway.url).port;
    const hostStatus = await new Promise<number>((resolve, reject) => {
      const req = request({ host: '127.0.0.1', port, path: '/mcp/builder', method: 'POST', headers: { host: `evil.example:${port}`, authorization: `Bearer ${TOKENS.alice}`, 'content-type': 'application/json' } }, (res) => {
        res.resume();
        resolve(res.statusCode!);
      });
      req.on('error', reject);
      req.end(JSON.stringify(init));
    });
    assert.equal(hostStatus, 403);
    const huge = JSON.stringify({ ...init, params: { ...init.params, padding: 'x'.repeat(5 * 1024 * 1024) } });
    assert.equal((await post('builder', { authorization: `Bearer ${TOKENS.alice}` }, huge)).status, 413);
    const ok = await post('builder', { authorization: `Bearer ${TOKENS.alice}` });
    assert.equal(ok.status, 200);
    await ok.body?.cancel();
    const health = await fetch(`${gateway.url}/healthz`);
    assert.equal(health.status, 200);
    assert.equal(((await health.json()) as { status: string }).status, 'ok');
    const wrongMethod = await fetch(`${gateway.url}/healthz`, { method: 'POST' });
    assert.equal(wrongMethod.status, 405);
    assert.equal(wrongMethod.headers.get('allow'), 'GET, HEAD');
    assert.match(await wrongMethod.text(), /method POST not allowed on \/healthz; use GET or HEAD/);
    const head = await fetch(`${gateway.url}/healthz`, { method: 'HEAD' });
    assert.equal(head.status, 200, 'a load balancer may check with HEAD');
    assert.equal(head.headers.get('content-type'), 'application/json');
    assert.equal(await head.text(), '');
  });

  test('a client that closes the connection mid-body costs no error log', async () => {
    let stderr = '';
    const collect = (chunk: Buffer) => void (stderr += chunk.toString());
    gateway.process.stderr!.on('data', collect);
    try {
      const { port } = new URL(gateway.url);
      for (let i = 0; i < 3; i++) {
        await new Promise<void>((resolve) => {
          const socket = connectTcp(Number(port), '127.0.0.1', () => {
            socket.write(`POST /mcp/builder HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nAuthorization: Bearer ${TOKENS.alice}\r\nContent-Type: application/json\r\nAccept: application/json, text/event-stream\r\nContent-Length: 100\r\n\r\n{"jsonrpc":`);
            setTimeout(() => socket.destroy(), 100);
          });
          socket.once('close', () => resolve());
        });
      }
      // The gateway is still serving, and had nothing to say at its error level.
      assert.equal((await fetch(`${gateway.url}/healthz`)).status, 200);
      await new Promise((resolve) => setTimeout(resolve, 200));
      assert.doesNotMatch(stderr, /http request failed|"level":50/);
    } finally {
      gateway.process.stderr!.off('data', collect);
    }
  });

  test('a request that stalls before it has arrived whole is answered 408 after http.requestTimeoutMs, and its connection closed', async () => {
    const { port } = new URL(gateway.url);
    const started = Date.now();
    const answer = await new Promise<string>((resolve, reject) => {
      let received = '';
      const socket = connectTcp(Number(port), '127.0.0.1', () => {
        socket.write(`POST /mcp/builder HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nAuthorization: Bearer ${TOKENS.alice}\r\nContent-Type: application/json\r\nAccept: application/json, text/event-stream\r\nContent-Length: 100\r\n\r\n{"jsonrpc":`);
      });
      socket.on('data', (chunk: Buffer) => void (received += chunk.toString()));
      socket.once('close', () => resolve(received));
      socket.once('error', reject);
      setTimeout(() => socket.destroy(new Error(`no answer after 10 s: ${received}`)), 10_000).unref();
    });
    const waited = Date.now() - started;
    assert.match(answer, /^HTTP\/1\.1 408 /);
    assert.ok(waited >= STALLED_REQUEST_MS - 50 && waited < STALLED_REQUEST_MS + 2_000, `answered after ${waited} ms`);
    assert.equal((await fetch(`${gateway.url}/healthz`)).status, 200);
  });

  test('progress notifications reach the agent', async () => {
    const client = await connect('builder', TOKENS.alice);
    const seen: number[] = [];
    const result = await client.callTool({ name: 'everything__trigger-long-running-operation', arguments: { duration: 1, steps: 4 } }, undefined, {
      onprogress: (progress) => seen.push(progress.progress),
    });
    assert.match(text(result), /completed/i);
    assert.deepEqual(seen, [1, 2, 3, 4]);
  });

  test('elicitation and sampling requests from a server reach the agent that made the call', async () => {
    const client = await connect('builder', TOKENS.alice, { elicitation: {}, sampling: {} });
    let elicited = '';
    client.setRequestHandler(ElicitRequestSchema, async (request) => {
      elicited = request.params.message;
      return { action: 'accept', content: { name: 'Ada Lovelace', check: true, integer: 7, email: 'ada@example.com' } };
    });
    client.setRequestHandler(CreateMessageRequestSchema, async () => ({
      role: 'assistant',
      model: 'test-model',
      content: { type: 'text', text: 'sampled answer 42' },
    }));
    const elicitation = await client.callTool({ name: 'everything__trigger-elicitation-request', arguments: {} });
    assert.match(elicited, /provide inputs/);
    assert.match(text(elicitation), /Ada Lovelace/);
    const sampling = await client.callTool({ name: 'everything__trigger-sampling-request', arguments: { prompt: 'hi', maxTokens: 10 } });
    assert.match(text(sampling), /sampled answer 42/);
  });

  test('an elicitation while two sessions have calls in flight on the shared server reaches neither: it is refused', async () => {
    const seen: string[] = [];
    const asker = await connect('builder', TOKENS.alice, { elicitation: {} });
    const bystander = await connect('builder', TOKENS.alice, { elicitation: {} });
    asker.setRequestHandler(ElicitRequestSchema, async () => (seen.push('asker'), { action: 'decline' }));
    bystander.setRequestHandler(ElicitRequestSchema, async () => (seen.push('bystander'), { action: 'decline' }));
    // The bystander's call is in flight on the everything server once its first progress arrives.
    let started!: () => void;
    const inFlight = new Promise<void>((resolve) => (started = resolve));
    const long = bystander.callTool({ name: 'everything__trigger-long-running-operation', arguments: { duration: 2, steps: 4 } }, undefined, {
      onprogress: () => started(),
    });
    await inFlight;
    const result = await asker.callTool({ name: 'everything__trigger-elicitation-request', arguments: {} }).catch((error: Error) => error);
    const message = result instanceof Error ? result.message : text(result);
    assert.match(message, /GH_ROUTING_AMBIGUOUS: elicitation request from "everything" cannot be tied to one caller: 2 sessions have calls in flight/);
    assert.deepEqual(seen, [], 'no session was shown the other session-bound request');
    assert.match(text(await long), /completed/i, "the bystander's call is not disturbed");
    // With the bystander's call done, the same request reaches the one session in flight.
    await asker.callTool({ name: 'everything__trigger-elicitation-request', arguments: {} });
    assert.deepEqual(seen, ['asker']);
  });

  test('a client without elicitation support gets a clear error, not a hang', async () => {
    const client = await connect('builder', TOKENS.alice);
    const result = await client.callTool({ name: 'everything__trigger-elicitation-request', arguments: {} }).catch((error: Error) => error);
    const message = result instanceof Error ? result.message : text(result);
    assert.match(message, /does not support elicitation/);
  });

  test('cancellation reaches the downstream call and is recorded', async () => {
    const client = await connect('builder', TOKENS.alice);
    const controller = new AbortController();
    const call = client.callTool({ name: 'everything__trigger-long-running-operation', arguments: { duration: 20, steps: 20 } }, undefined, {
      signal: controller.signal,
      onprogress: () => controller.abort('enough'),
    });
    await assert.rejects(call);
    const events = new SqliteEventStore(openSqlite(path.join(temp.dir, 'state/gatehouse.db')));
    await waitFor(
      async () => (await events.read({ type: 'tool.call.failed' })).some((event) => event.payload.code === 'GH_CANCELLED'),
      5_000,
      'a GH_CANCELLED event',
    );
  });

  test('resources and prompts of allowed servers are namespaced, readable and gettable', async () => {
    const client = await connect('builder', TOKENS.alice);
    const { resources } = await client.listResources();
    assert.ok(resources.length > 0);
    assert.ok(resources.every((resource) => /^(everything|memory)\+/.test(resource.uri)), resources.map((r) => r.uri).join(','));
    const first = resources.find((resource) => resource.uri.startsWith('everything+'))!;
    const read = await client.readResource({ uri: first.uri });
    assert.equal(read.contents[0]!.uri, first.uri.slice('everything+'.length));
    const { prompts } = await client.listPrompts();
    const simple = prompts.find((prompt) => prompt.name === 'everything__simple-prompt');
    assert.ok(simple, prompts.map((p) => p.name).join(','));
    const prompt = await client.getPrompt({ name: 'everything__simple-prompt' });
    assert.ok(prompt.messages.length > 0);
    const narrow = await connect('narrow', TOKENS.bob);
    await assert.rejects(narrow.getPrompt({ name: 'everything__simple-prompt' }), /not available in profile "narrow"/);
  });

  test('serve exits 1 with GH_LISTEN_FAILED on a busy port, and on an address not of this machine, each naming its option', async () => {
    const port = new URL(gateway.url).port;
    const result = spawnSync(process.execPath, [CLI, 'serve', '--config', temp.configPath, '--port', port, '--quiet'], {
      env: { ...process.env, ...TEST_ENV },
      encoding: 'utf8',
      timeout: 15_000,
    });
    assert.equal(result.status, 1, result.stderr);
    assert.match(result.stderr, new RegExp(`GH_LISTEN_FAILED: cannot listen on 127\\.0\\.0\\.1:${port}: the port is already in use \\(choose another with --port\\)`));
    // An address that is not this machine's is a host problem, and the error says so.
    const foreign = spawnSync(process.execPath, [CLI, 'serve', '--config', temp.configPath, '--host', '192.0.2.1', '--port', '0', '--quiet'], {
      env: { ...process.env, ...TEST_ENV },
      encoding: 'utf8',
      timeout: 15_000,
    });
    assert.equal(foreign.status, 1, foreign.stderr);
    assert.match(foreign.stderr, /GH_LISTEN_FAILED: cannot listen on 192\.0\.2\.1:0: .*EADDRNOTAVAIL.* \(check --host or http\.host: it must be an address of this machine\)/);
    assert.doesNotMatch(foreign.stderr, /--port\)/);
  });

  test('children get their configured env and not the gateway\'s secrets', async () => {
    const client = await connect('builder', TOKENS.alice);
    const env = text(await client.callTool({ name: 'everything__get-env', arguments: {} }));
    assert.doesNotMatch(env, /TEST_TOKEN_ALICE/);
    assert.doesNotMatch(env, new RegExp(TOKENS.alice));
    assert.match(env, /PATH/);
    const children = childProcesses(gateway.process.pid!);
    assert.ok(children.some((child) => child.args.includes('server-everything')), JSON.stringify(children));
  });
});

test('an HTTP session unused for sessionIdleMs is closed; one in use stays open', { timeout: 30_000 }, async () => {
  const temp = tempConfig(standardConfig({ http: { sessionIdleMs: 1_000 } }));
  const gateway = await startServe(temp.configPath);
  try {
    const busy = await httpClient(gateway.url, 'builder', TOKENS.alice);
    const idle = await httpClient(gateway.url, 'builder', TOKENS.alice);
    // Three idle periods: the sweep (every sessionIdleMs when that is under a minute) runs about three times.
    for (const until = Date.now() + 3_000; Date.now() < until; ) {
      await busy.ping();
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
    await busy.ping();
    await assert.rejects(idle.ping(), /404|session not found/);
    await busy.close();
    await idle.close().catch(() => undefined);
  } finally {
    await gateway.stop();
    temp.cleanup();
  }
});

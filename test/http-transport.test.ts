import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, request } from 'node:http';
import type { AddressInfo } from 'node:net';
import { readJsonBody } from '../src/transports/read-body.js';
import { LATEST_PROTOCOL_VERSION } from '@modelcontextprotocol/sdk/types.js';
import { standardConfig, startServe, tempConfig, TOKENS, type RunningGateway } from './helpers/gatehouse.js';

/**
 * The wire behaviour of `gatehouse serve`'s streamable HTTP transport, seen with plain fetch:
 * JSON answers when nothing streams first, SSE when something does, and a clear status for
 * each kind of bad request.
 */
describe('streamable HTTP transport on the wire', () => {
  let temp: ReturnType<typeof tempConfig>;
  let gateway: RunningGateway;
  let endpoint: string;

  before(async () => {
    // A short keep-alive, so that a silent call is seen switching to SSE within a test.
    // Bob may use builder too, so that a session can be tried with another agent allowed on its profile.
    const config = standardConfig({ http: { keepAliveMs: 400 } });
    (config.agents as Record<string, { profiles: string[] }>).bob!.profiles.push('builder');
    temp = tempConfig(config);
    gateway = await startServe(temp.configPath);
    endpoint = `${gateway.url}/mcp/builder`;
  });
  after(async () => {
    await gateway.stop();
    temp.cleanup();
  });

  const baseHeaders = {
    authorization: `Bearer ${TOKENS.alice}`,
    accept: 'application/json, text/event-stream',
    'content-type': 'application/json',
  };

  async function post(body: unknown, headers: Record<string, string> = {}): Promise<Response> {
    return fetch(endpoint, { method: 'POST', headers: { ...baseHeaders, ...headers }, body: JSON.stringify(body) });
  }

  async function errorMessage(response: Response): Promise<string> {
    return ((await response.json()) as { error: { message: string } }).error.message;
  }

  /** A session ready for requests: initialize, then the initialized notification. */
  async function openSession(): Promise<Record<string, string>> {
    const response = await post({
      jsonrpc: '2.0',
      id: 0,
      method: 'initialize',
      params: { protocolVersion: LATEST_PROTOCOL_VERSION, capabilities: {}, clientInfo: { name: 'wire-test', version: '1' } },
    });
    assert.equal(response.status, 200);
    const session = response.headers.get('mcp-session-id');
    assert.ok(session, 'initialize answers with an mcp-session-id');
    await response.text();
    const headers = { 'mcp-session-id': session, 'mcp-protocol-version': LATEST_PROTOCOL_VERSION };
    const initialized = await post({ jsonrpc: '2.0', method: 'notifications/initialized' }, headers);
    assert.equal(initialized.status, 202);
    assert.equal(await initialized.text(), '');
    return headers;
  }

  test('a call that streams nothing is answered with one JSON object carrying the session id', async () => {
    const session = await openSession();
    // The first call starts the server, which can take longer than keepAliveMs: not this one.
    await (await post({ jsonrpc: '2.0', id: 0, method: 'tools/call', params: { name: 'everything__echo', arguments: { message: 'warm-up' } } }, session)).text();
    const response = await post({ jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'everything__echo', arguments: { message: 'wire' } } }, session);
    assert.equal(response.status, 200);
    assert.match(response.headers.get('content-type') ?? '', /^application\/json/);
    assert.equal(response.headers.get('mcp-session-id'), session['mcp-session-id']);
    const body = (await response.json()) as { id: number; result: { content: Array<{ text: string }> } };
    assert.equal(body.id, 1);
    assert.equal(body.result.content[0]!.text, 'Echo: wire');
  });

  test('a batch of requests is answered with an array once every request has its response', async () => {
    const session = await openSession();
    const response = await post(
      [
        { jsonrpc: '2.0', id: 'a', method: 'tools/call', params: { name: 'everything__echo', arguments: { message: 'one' } } },
        { jsonrpc: '2.0', id: 'b', method: 'ping' },
      ],
      session,
    );
    assert.equal(response.status, 200);
    const body = (await response.json()) as Array<{ id: string }>;
    assert.deepEqual(body.map((message) => message.id).sort(), ['a', 'b']);
  });

  test('a call whose progress comes before its result becomes an SSE stream: the progress events, then the response', async () => {
    const session = await openSession();
    const response = await post(
      {
        jsonrpc: '2.0',
        id: 2,
        method: 'tools/call',
        params: { name: 'everything__trigger-long-running-operation', arguments: { duration: 0.3, steps: 3 }, _meta: { progressToken: 'p-1' } },
      },
      session,
    );
    assert.equal(response.status, 200);
    assert.match(response.headers.get('content-type') ?? '', /^text\/event-stream/);
    const events = (await response.text())
      .split('\n')
      .filter((line) => line.startsWith('data: '))
      .map((line) => JSON.parse(line.slice(6)) as { method?: string; id?: number; params?: { progressToken?: string } });
    const progress = events.filter((event) => event.method === 'notifications/progress');
    assert.ok(progress.length >= 3, `${progress.length} progress events`);
    assert.ok(progress.every((event) => event.params?.progressToken === 'p-1'));
    assert.equal(events.at(-1)!.id, 2, 'the stream ends with the response');
  });

  test('a call silent for longer than keepAliveMs becomes an SSE stream with keep-alive comments, then its response', async () => {
    const session = await openSession();
    const response = await post(
      { jsonrpc: '2.0', id: 9, method: 'tools/call', params: { name: 'everything__trigger-long-running-operation', arguments: { duration: 1.5, steps: 2 } } },
      session,
    );
    assert.equal(response.status, 200);
    assert.match(response.headers.get('content-type') ?? '', /^text\/event-stream/);
    const body = await response.text();
    assert.ok((body.match(/^: keep-alive$/gm) ?? []).length >= 2, body);
    const data = body.split('\n').filter((line) => line.startsWith('data: '));
    assert.equal(data.length, 1);
    assert.equal((JSON.parse(data[0]!.slice(6)) as { id: number }).id, 9);
  });

  test('a GET opens the session stream once; a second one is refused with 409', async () => {
    const session = await openSession();
    const controller = new AbortController();
    const first = await fetch(endpoint, { headers: { ...baseHeaders, ...session, accept: 'text/event-stream' }, signal: controller.signal });
    assert.equal(first.status, 200);
    assert.match(first.headers.get('content-type') ?? '', /^text\/event-stream/);
    const second = await fetch(endpoint, { headers: { ...baseHeaders, ...session, accept: 'text/event-stream' } });
    assert.equal(second.status, 409);
    assert.match(await errorMessage(second), /GET stream open already/);
    controller.abort();
  });

  test('DELETE ends the session: later requests get 404', async () => {
    const session = await openSession();
    const deleted = await fetch(endpoint, { method: 'DELETE', headers: { ...baseHeaders, ...session } });
    assert.equal(deleted.status, 200);
    const after = await post({ jsonrpc: '2.0', id: 3, method: 'ping' }, session);
    assert.equal(after.status, 404);
  });

  test('bad requests get a status and a message that name the problem', async () => {
    const session = await openSession();
    const ping = { jsonrpc: '2.0', id: 4, method: 'ping' };

    const notAcceptable = await post(ping, { ...session, accept: 'application/json' });
    assert.equal(notAcceptable.status, 406);
    assert.match(await errorMessage(notAcceptable), /accept both application\/json and text\/event-stream/);

    const wrongType = await fetch(endpoint, { method: 'POST', headers: { ...baseHeaders, ...session, 'content-type': 'text/plain' }, body: JSON.stringify(ping) });
    assert.equal(wrongType.status, 415);
    assert.match(await errorMessage(wrongType), /Content-Type must be application\/json, not "text\/plain"/);

    const badVersion = await post(ping, { ...session, 'mcp-protocol-version': '1999-01-01' });
    assert.equal(badVersion.status, 400);
    assert.match(await errorMessage(badVersion), /unsupported MCP-Protocol-Version "1999-01-01"/);

    const notJsonRpc = await post([ping, { hello: 'world' }], session);
    assert.equal(notJsonRpc.status, 400);
    assert.match(await errorMessage(notJsonRpc), /message 1 is not a JSON-RPC 2.0/);

    const emptyBatch = await post([], session);
    assert.equal(emptyBatch.status, 400);
    assert.match(await errorMessage(emptyBatch), /empty batch/);

    const reinitialize = await post(
      { jsonrpc: '2.0', id: 5, method: 'initialize', params: { protocolVersion: LATEST_PROTOCOL_VERSION, capabilities: {}, clientInfo: { name: 'x', version: '1' } } },
      session,
    );
    assert.equal(reinitialize.status, 400);
    assert.match(await errorMessage(reinitialize), /initialized already/);

    const put = await fetch(endpoint, { method: 'PUT', headers: { ...baseHeaders, ...session }, body: '{}' });
    assert.equal(put.status, 405);
    assert.equal(put.headers.get('allow'), 'GET, POST, DELETE');

    // The session still works after all of that.
    const ok = await post(ping, session);
    assert.equal(ok.status, 200);
    assert.deepEqual(((await ok.json()) as { result: unknown }).result, {});
  });

  test('a session belongs to the agent and the profile it was opened with: used by another, or on another profile, it is not found', async () => {
    const session = await openSession();
    const ping = { jsonrpc: '2.0', id: 1, method: 'ping' };
    const own = await post(ping, session);
    assert.equal(own.status, 200);
    await own.text();
    const byBob = await post(ping, { ...session, authorization: `Bearer ${TOKENS.bob}` });
    assert.equal(byBob.status, 404, 'bob may use builder, but not alice\'s session on it');
    assert.match(await errorMessage(byBob), /session not found/);
    const elsewhere = await fetch(`${gateway.url}/mcp/research`, { method: 'POST', headers: { ...baseHeaders, ...session }, body: JSON.stringify(ping) });
    assert.equal(elsewhere.status, 404, 'alice may use research, but this session is builder\'s');
    assert.match(await errorMessage(elsewhere), /session not found/);
  });

  // A limit that stops working leaves the request unanswered: the timeout makes that a failure, not a hang.
  test('a body sent in chunks without a length is refused with 413 once it passes maxBodyBytes', { timeout: 20_000 }, async () => {
    const status = await new Promise<number>((resolve, reject) => {
      const req = request(endpoint, { method: 'POST', headers: { ...baseHeaders, 'transfer-encoding': 'chunked' } }, (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      });
      req.on('error', reject);
      const megabyte = Buffer.alloc(1024 * 1024, 0x20);
      for (let i = 0; i < 5; i += 1) req.write(megabyte);
      req.end();
    });
    assert.equal(status, 413);
  });

  test('a request id still in flight on the session is refused with 409, the first call unharmed', async () => {
    const session = await openSession();
    const slow = { jsonrpc: '2.0', id: 7, method: 'tools/call', params: { name: 'everything__trigger-long-running-operation', arguments: { duration: 0.5, steps: 1 } } };
    const first = post(slow, session);
    await new Promise((resolve) => setTimeout(resolve, 150));
    const duplicate = await post({ jsonrpc: '2.0', id: 7, method: 'ping' }, session);
    assert.equal(duplicate.status, 409);
    assert.match(await errorMessage(duplicate), /request id 7 is still in flight/);
    const answer = await first;
    assert.equal(answer.status, 200);
    const text = await answer.text();
    assert.match(text, /"id":7/);
    assert.match(text, /Long running operation completed/);
  });
});

test('a body of exactly the limit is read, one byte more is too large, with or without a Content-Length; no byte is empty', async () => {
  const server = createServer((req, res) => void readJsonBody(req, 10).then((read) => res.end(read.kind)));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  /** The kind readJsonBody gives `body`; chunked (no Content-Length) when `length` is false. */
  const kindOf = (body: string, length: boolean) =>
    new Promise<string>((resolve, reject) => {
      const req = request({ host: '127.0.0.1', port, method: 'POST', headers: length ? { 'content-length': Buffer.byteLength(body) } : {} }, (res) => {
        let text = '';
        res.on('data', (chunk: Buffer) => (text += chunk.toString()));
        res.on('end', () => resolve(text));
      });
      req.on('error', reject);
      if (!length) for (const character of body) req.write(character);
      req.end(length ? body : undefined);
    });
  try {
    for (const length of [true, false]) {
      assert.equal(await kindOf('"12345678"', length), 'ok', `10 bytes, length ${length}`);
      assert.equal(await kindOf('"123456789"', length), 'too-large', `11 bytes, length ${length}`);
      assert.equal(await kindOf('', length), 'empty', `no byte, length ${length}`);
    }
  } finally {
    server.close();
  }
});

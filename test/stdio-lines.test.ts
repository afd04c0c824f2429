import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createInterface } from 'node:readline';
import { rawConnect, standardConfig, tempConfig } from './helpers/gatehouse.js';

/**
 * `gatehouse connect` as a client meets it byte for byte: every line that is not a message gets
 * JSON-RPC's answer (with the request's id whenever it can be known) and the session goes on.
 */
test('gatehouse connect answers every bad line and keeps the session', async () => {
  const temp = tempConfig(standardConfig({ http: { maxBodyBytes: 64 * 1024 } }));
  const { child, stderr } = rawConnect(temp.configPath, 'builder');
  const answers: Array<Record<string, unknown>> = [];
  const waiters: Array<() => void> = [];
  createInterface({ input: child.stdout }).on('line', (line) => {
    answers.push(JSON.parse(line) as Record<string, unknown>);
    waiters.splice(0).forEach((wake) => wake());
  });
  /** Writes raw text and waits (up to 10 s) until `count` answers in all have arrived. */
  const send = async (text: string, count: number) => {
    child.stdin.write(text);
    const deadline = Date.now() + 10_000;
    while (answers.length < count) {
      const left = deadline - Date.now();
      if (left <= 0) assert.fail(`no answer to ${text.slice(0, 120)}; answers so far: ${JSON.stringify(answers).slice(-400)}`);
      await new Promise<void>((resolve) => {
        waiters.push(resolve);
        setTimeout(resolve, left).unref();
      });
    }
  };
  const error = (index: number) => answers[index] as { id: unknown; error: { code: number; message: string } };
  try {
    await send(JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 't', version: '1' } } }) + '\n', 1);
    assert.equal((answers[0] as { id: number }).id, 1);
    child.stdin.write('{"jsonrpc":"2.0","method":"notifications/initialized"}\n');

    await send('{"jsonrpc":"2.0","id":2,"method":"tools/li\n', 2);
    assert.equal(error(1).id, null);
    assert.equal(error(1).error.code, -32700);
    assert.match(error(1).error.message, /^parse error: /);

    await send('{"id":3,"method":"ping"}\n', 3);
    assert.deepEqual(error(2), { jsonrpc: '2.0', id: 3, error: { code: -32600, message: 'Invalid Request: not a JSON-RPC 2.0 request, notification or response' } });

    await send('[{"jsonrpc":"2.0","id":4,"method":"ping"}]\n', 4);
    assert.equal(error(3).id, null);
    assert.match(error(3).error.message, /a batch; over stdio, send one message per line/);

    // A malformed notification or response is not answered: the next answer is the ping's.
    await send('{"jsonrpc":"2.0","method":7}\n{"jsonrpc":"2.0","id":99,"result":5,"error":{}}\n{"jsonrpc":"2.0","id":5,"method":"ping"}\n', 5);
    assert.deepEqual(answers[4], { jsonrpc: '2.0', id: 5, result: {} });

    // Over the limit (64 KiB here): dropped unread, answered by the id at its end (the MCP SDK
    // writes it last) or at its start (other SDKs write it first).
    const big = 'x'.repeat(100 * 1024);
    await send(`{"method":"tools/call","params":{"name":"everything__echo","arguments":{"message":"${big}"}},"jsonrpc":"2.0","id":6}\n`, 6);
    assert.equal(error(5).id, 6);
    assert.equal(error(5).error.code, -32600);
    assert.match(error(5).error.message, /the message has 10\d{4} bytes, over the limit of 65536 \(http\.maxBodyBytes\); it was dropped/);
    await send(`{"jsonrpc":"2.0","id":"seven","method":"tools/call","params":{"name":"everything__echo","arguments":{"message":"${big}"}}}\n`, 7);
    assert.equal(error(6).id, 'seven');
    // An oversized response (to a request of the gateway's) is dropped unanswered: its id is the gateway's numbering, not the client's.
    await send(`{"result":{"content":"${big}"},"jsonrpc":"2.0","id":1}\n{"jsonrpc":"2.0","id":"after-big","method":"ping"}\n`, 8);
    assert.deepEqual(answers[7], { jsonrpc: '2.0', id: 'after-big', result: {} });

    // Params that do not fit the method: invalid params, naming the field.
    await send(JSON.stringify({ jsonrpc: '2.0', id: 8, method: 'tools/call', params: { name: 'everything__echo', arguments: '{"message":"x"}' } }) + '\n', 9);
    assert.deepEqual(error(8).error, { code: -32602, message: 'invalid params for tools/call: params.arguments: expected record, received string' });

    // And the session still works.
    await send(JSON.stringify({ jsonrpc: '2.0', id: 9, method: 'tools/call', params: { name: 'everything__echo', arguments: { message: 'still here' } } }) + '\n', 10);
    assert.deepEqual((answers[9] as { id: number; result: { content: unknown } }).result.content, [{ type: 'text', text: 'Echo: still here' }]);
    // A call's params are told apart by their keys first (params-guard.ts): what the schema refuses is still refused.
    const badCalls: Array<[Record<string, unknown>, string]> = [
      [{ name: 'everything__echo', arguments: ['x'] }, 'params.arguments: expected record, received array'],
      [{ name: 'everything__echo', arguments: null }, 'params.arguments: expected record, received null'],
      [{ name: 7, arguments: {} }, 'params.name: expected string, received number'],
      [{ arguments: {} }, 'params.name: expected string, received undefined'],
    ];
    for (const [index, [params, problem]] of badCalls.entries()) {
      await send(JSON.stringify({ jsonrpc: '2.0', id: 10 + index, method: 'tools/call', params }) + '\n', 11 + index);
      assert.deepEqual(error(10 + index), { jsonrpc: '2.0', id: 10 + index, error: { code: -32602, message: `invalid params for tools/call: ${problem}` } });
    }
    assert.equal(child.exitCode, null);
    // Each refusal is in the gateway's log, for an operator.
    assert.match(stderr(), /parse error/);
    assert.match(stderr(), /over the limit of 65536/);

    // End of stdin ends the session and the process.
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    child.stdin.end();
    assert.equal(await exited, 0);
  } finally {
    child.kill();
    temp.cleanup();
  }
});

test('a client that stops reading mid-call ends the session cleanly: logged, exit 0, no stack trace', async () => {
  const temp = tempConfig(standardConfig());
  const { child, stderr } = rawConnect(temp.configPath, 'builder');
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  try {
    child.stdin.write(JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 't', version: '1' } } }) + '\n');
    await new Promise((resolve) => child.stdout.once('data', resolve));
    child.stdin.write('{"jsonrpc":"2.0","method":"notifications/initialized"}\n');
    // A call that answers after the client has stopped reading: its answer meets a closed pipe (EPIPE).
    child.stdin.write(JSON.stringify({ jsonrpc: '2.0', id: 2, method: 'tools/call', params: { name: 'everything__trigger-long-running-operation', arguments: { duration: 1, steps: 2 } } }) + '\n');
    await new Promise((resolve) => setTimeout(resolve, 300));
    child.stdout.destroy();
    const code = await Promise.race([exited, new Promise<'running'>((resolve) => setTimeout(() => resolve('running'), 15_000).unref())]);
    assert.equal(code, 0, stderr().slice(-2000));
    assert.match(stderr(), /the client stopped reading: write EPIPE/);
    assert.doesNotMatch(stderr(), /\n\s+at /, 'no stack trace');
  } finally {
    child.kill();
    temp.cleanup();
  }
});

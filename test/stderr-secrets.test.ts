import { test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { openSqlite } from '../src/adapters/sqlite/database.js';
import { StderrTail } from '../src/downstream/stderr-tail.js';
import { httpClient, startServe, tempConfig, text, TOKENS } from './helpers/gatehouse.js';

const SECRET = 'supersecretvalue123';
const OPERATOR_TOKEN = 'operator-token-0123456789';

test("a server that prints its credential to stderr: the value reaches no agent, no audit event and no API answer", async () => {
  const temp = tempConfig({
    store: { kind: 'sqlite', path: 'state/gatehouse.db' },
    servers: {
      leaky: {
        command: process.execPath,
        args: ['-e', "console.error('starting with API_TOKEN=' + process.env.API_TOKEN); process.exit(3)"],
        env: { API_TOKEN: '${LEAKY_TOKEN}' },
        defaultGate: 'G0',
      },
    },
    profiles: { p: { allow: ['leaky/*'] } },
    agents: { alice: { profiles: ['p'], tokenEnv: 'TEST_TOKEN_ALICE' } },
    operators: { ops: { tokenEnv: 'TEST_OPERATOR_TOKEN' } },
  });
  const gateway = await startServe(temp.configPath, { LEAKY_TOKEN: SECRET, TEST_OPERATOR_TOKEN: OPERATOR_TOKEN });
  try {
    const client = await httpClient(gateway.url, 'p', TOKENS.alice);
    const result = await client.callTool({ name: 'leaky__x', arguments: {} }).catch((error: Error) => error);
    const seen = result instanceof Error ? result.message : `${text(result)} ${JSON.stringify(result)}`;
    assert.match(seen, /its stderr ends: starting with API_TOKEN=\[redacted\]/, seen);
    assert.doesNotMatch(seen, new RegExp(SECRET));
    await client.close();

    const servers = await fetch(`${gateway.url}/api/servers`, { headers: { authorization: `Bearer ${OPERATOR_TOKEN}` } });
    assert.equal(servers.status, 200);
    const body = await servers.text();
    assert.match(body, /API_TOKEN=\[redacted\]/);
    assert.doesNotMatch(body, new RegExp(SECRET));
  } finally {
    await gateway.stop();
  }
  const db = openSqlite(path.join(temp.dir, 'state/gatehouse.db'));
  try {
    const payloads = (db.prepare('SELECT payload FROM events').pluck().all() as string[]).join('\n');
    assert.match(payloads, /API_TOKEN=\[redacted\]/, 'the stderr tail is in the events, scrubbed');
    assert.doesNotMatch(payloads, new RegExp(SECRET));
  } finally {
    db.close();
    temp.cleanup();
  }
});

test('the stderr tail keeps the last lines but no blank one, and scrubs a last line cut off without its newline too', () => {
  const tail = new StderrTail(2, (line) => line.replaceAll(SECRET, '[redacted]'));
  tail.push('one\ntwo\nthree\n\n  \n');
  assert.deepEqual(tail.lines(), ['two', 'three']);
  tail.push(`dying with API_TOKEN=${SECRET}`); // the process died before its newline
  assert.deepEqual(tail.lines(), ['two', 'three', 'dying with API_TOKEN=[redacted]']);
});

test('a stderr line never ended (a progress bar redrawn with \\r) is kept and shown like any line, however long the server runs', () => {
  const tail = new StderrTail(2);
  for (let i = 0; i < 200; i += 1) tail.push(`\rdownloading ${i + 1}/200 ${'#'.repeat(5000)}`);
  const [progress] = tail.lines();
  assert.ok(progress!.startsWith('\rdownloading 1/200 #'), progress!.slice(0, 40));
  assert.ok(progress!.length <= 501, `shown with ${progress!.length} characters`);
  tail.push(' done\nready\n');
  const [ended, ready] = tail.lines();
  assert.ok(ended!.startsWith('\rdownloading 1/200 #') && ended!.length <= 501);
  assert.equal(ready, 'ready');
});

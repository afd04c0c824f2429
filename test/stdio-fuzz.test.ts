import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { JSONRPCMessageSchema } from '@modelcontextprotocol/sdk/types.js';
import { toYaml } from '../src/config/yaml.js';
import { rawConnect, tempConfig } from './helpers/gatehouse.js';
import { faultServer } from './helpers/faults.js';
import { corrupt, int, mutate, pick, randomValue, RawJson, seededRandom, templates } from './helpers/json-rpc-fuzz.js';

/**
 * A seeded fuzzer against `gatehouse connect`: thousands of random, mutated and corrupted lines on
 * its stdin. Each line is classified here as the JSON-RPC 2.0 spec has it, and the answers must be
 * exactly what that says: one per request (by id), one with id null per line that is not JSON or
 * not a message without a usable id, none for notifications and responses; no internal error
 * (-32603), no crash, no stack trace, and the session still serves at the end.
 * FUZZ_SEED and FUZZ_MESSAGES change the run.
 */
const SEED = Number(process.env.FUZZ_SEED ?? 20261126);
const MESSAGES = Number(process.env.FUZZ_MESSAGES ?? 2000);

type Answer = { id?: unknown; result?: unknown; error?: { code: number; message: string } };

/** What one line should get back: the id of its answer (null for id null), or nothing. */
function expectedAnswer(line: string): { id: unknown } | undefined {
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch {
    return { id: null };
  }
  const fields = value !== null && typeof value === 'object' && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
  if (JSONRPCMessageSchema.safeParse(value).success) return fields && 'method' in fields && 'id' in fields ? { id: fields.id } : undefined;
  if (!fields) return { id: null }; // a batch, or JSON that is no object
  if ('result' in fields || 'error' in fields || ('method' in fields && !('id' in fields))) return undefined; // a response or a notification
  const usable = typeof fields.id === 'string' || (typeof fields.id === 'number' && Number.isInteger(fields.id));
  return { id: usable ? fields.id : null };
}

/** The lines `gatehouse connect` will read from these bytes: split at LF, a trailing CR dropped, blank lines skipped. */
function linesOf(bytes: Buffer): string[] {
  return bytes
    .toString('utf8')
    .split('\n')
    .map((line) => line.replace(/\r$/, ''))
    .filter((line) => line.trim() !== '');
}

test(`stdio: ${MESSAGES} random and mutated lines (seed ${SEED}) get exactly the answers JSON-RPC says, and the session still serves`, async () => {
  const temp = tempConfig({});
  writeFileSync(
    temp.configPath,
    toYaml({
      store: { kind: 'sqlite', path: 'state/gatehouse.db' },
      // Above the largest fuzzed line (a 200 KB padding in a batch of 4): oversized lines have their own test.
      http: { maxBodyBytes: 4 * 1024 * 1024 },
      defaults: { callTimeoutMs: 2000 },
      servers: { healthy: faultServer(temp.dir) },
      profiles: { main: { allow: ['healthy/*'] } },
    }),
  );
  const { child, stderr } = rawConnect(temp.configPath, 'main');
  const answers: Answer[] = [];
  let pending = '';
  child.stdout.on('data', (chunk: Buffer) => {
    pending += chunk.toString('utf8');
    const lines = pending.split('\n');
    pending = lines.pop()!;
    for (const line of lines) {
      const message = JSON.parse(line) as Answer & { method?: string };
      if (message.method === undefined) answers.push(message); // notifications and server requests are not answers
    }
  });
  const waitFor = async (done: () => boolean, what: string) => {
    for (const deadline = Date.now() + 30_000; !done(); ) {
      if (Date.now() > deadline || child.exitCode !== null) assert.fail(`${what}; exit ${child.exitCode}; stderr ends: ${stderr().slice(-1500)}`);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  };
  try {
    child.stdin.write(JSON.stringify({ jsonrpc: '2.0', id: 'init', method: 'initialize', params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'fuzz', version: '1' } } }) + '\n');
    child.stdin.write('{"jsonrpc":"2.0","method":"notifications/initialized"}\n');
    await waitFor(() => answers.length === 1, 'no answer to initialize');
    answers.length = 0;

    const random = seededRandom(SEED);
    // A cancellation may rightly leave its request unanswered; the HTTP fuzzer sends those.
    const pool = (tool: string) => templates(random, tool).filter((message) => message.method !== 'notifications/cancelled');
    const expected = new Map<string, number>();
    let sentLines = 0;
    for (let i = 0; i < MESSAGES; i += 1) {
      const base = pick(random, pool(pick(random, ['healthy__lookup', 'healthy__record', 'healthy__nope'])));
      const style = int(random, 10);
      let bytes: Buffer;
      if (style < 4) {
        const mutated = mutate(random, base);
        bytes = Buffer.from(mutated instanceof RawJson ? mutated.text : JSON.stringify(mutated));
      } else if (style < 6) bytes = Buffer.from(JSON.stringify(randomValue(random)) ?? 'null');
      else if (style < 8) bytes = corrupt(random, JSON.stringify(base));
      else bytes = Buffer.from(JSON.stringify(base));
      const framed = Buffer.concat([bytes, Buffer.from('\n')]);
      for (const line of linesOf(framed)) {
        sentLines += 1;
        const answer = expectedAnswer(line);
        if (answer) expected.set(JSON.stringify(answer.id), (expected.get(JSON.stringify(answer.id)) ?? 0) + 1);
      }
      if (!child.stdin.write(framed)) await new Promise((resolve) => child.stdin.once('drain', resolve));
    }
    const total = [...expected.values()].reduce((sum, count) => sum + count, 0);
    await waitFor(() => answers.length >= total, `${answers.length} of ${total} expected answers arrived`);
    await new Promise((resolve) => setTimeout(resolve, 500)); // and no more than that

    const got = new Map<string, number>();
    for (const answer of answers) got.set(JSON.stringify(answer.id ?? null), (got.get(JSON.stringify(answer.id ?? null)) ?? 0) + 1);
    const differences = [...new Set([...expected.keys(), ...got.keys()])]
      .filter((id) => (expected.get(id) ?? 0) !== (got.get(id) ?? 0))
      .map((id) => `id ${id.slice(0, 60)}: expected ${expected.get(id) ?? 0}, got ${got.get(id) ?? 0}`);
    const internal = answers.filter((answer) => answer.error?.code === -32603).map((answer) => answer.error!.message.slice(0, 200));
    const parseErrors = answers.filter((answer) => answer.error?.code === -32700).length;
    console.log(`stdio fuzzer: ${MESSAGES} messages as ${sentLines} lines, ${answers.length} answers (${parseErrors} parse errors, ${expected.get('null') ?? 0} with id null)`);
    assert.deepEqual(differences.slice(0, 10), [], `${differences.length} ids answered a different number of times than JSON-RPC says`);
    assert.deepEqual(internal.slice(0, 10), [], `${internal.length} answers were internal errors (-32603)`);
    assert.ok(parseErrors > 0, 'the fuzzer sent lines that are not JSON');
    assert.equal(child.exitCode, null);
    assert.doesNotMatch(stderr(), /\n\s+at /, 'no stack trace');

    answers.length = 0;
    child.stdin.write(JSON.stringify({ jsonrpc: '2.0', id: 'after', method: 'tools/call', params: { name: 'healthy__lookup', arguments: { id: 'after-fuzz' } } }) + '\n');
    await waitFor(() => answers.some((answer) => answer.id === 'after'), 'no answer after the fuzz');
    assert.deepEqual((answers.find((answer) => answer.id === 'after')!.result as { content: unknown }).content, [{ type: 'text', text: 'ok after-fuzz' }]);
  } finally {
    child.kill();
    temp.cleanup();
  }
});

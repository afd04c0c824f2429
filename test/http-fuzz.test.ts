import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { Agent, request } from 'node:http';
import { toYaml } from '../src/config/yaml.js';
import { httpClient, startServe, tempConfig, text, type RunningGateway } from './helpers/gatehouse.js';
import { faultServer } from './helpers/faults.js';
import { corrupt, int, mutate, pick, randomValue, RawJson, seededRandom, templates, type Random } from './helpers/json-rpc-fuzz.js';

/**
 * A seeded JSON-RPC fuzzer against `gatehouse serve`'s streamable HTTP endpoint: thousands of
 * random and mutated messages, with right and wrong headers, paths, methods and session ids.
 * The gateway must never crash and never answer a client's mistake with a 5xx. Bounded by a
 * message count and a time budget; FUZZ_SEED and FUZZ_MESSAGES change the run.
 */
const SEED = Number(process.env.FUZZ_SEED ?? 20261125);
const MESSAGES = Number(process.env.FUZZ_MESSAGES ?? 5000);
const BUDGET_MS = Number(process.env.FUZZ_BUDGET_MS ?? 60_000);
const CONCURRENCY = 8;
const TOKEN = 'fuzz-agent-token-0123456789';

interface Shot {
  /** Index of a live session (resolved when sent: a fuzzed DELETE may have ended it) or a bogus id. */
  session: number | string | undefined;
  method: string;
  path: string;
  headers: Record<string, string>;
  body: Buffer | undefined;
  what: string;
}

interface Reply {
  status: number;
  body: string;
}

describe('HTTP JSON-RPC fuzzer', () => {
  let temp: ReturnType<typeof tempConfig>;
  let gateway: RunningGateway;
  const sessions: string[] = [];
  const agent = new Agent({ keepAlive: true, maxSockets: CONCURRENCY });

  before(async () => {
    temp = tempConfig({});
    writeFileSync(
      temp.configPath,
      toYaml({
        store: { kind: 'sqlite', path: 'state/gatehouse.db' },
        http: { maxBodyBytes: 1024 * 1024 },
        defaults: { callTimeoutMs: 2000 },
        servers: { healthy: faultServer(temp.dir) },
        profiles: { main: { allow: ['healthy/*'] } },
        agents: { fuzz: { profiles: ['main'], tokenEnv: 'FUZZ_TOKEN' } },
      }),
    );
    gateway = await startServe(temp.configPath, { FUZZ_TOKEN: TOKEN });
    for (let i = 0; i < 4; i += 1) sessions.push(await initialize());
  });

  after(async () => {
    agent.destroy();
    await gateway?.stop();
    temp?.cleanup();
  });

  function send(shot: Shot): Promise<Reply | 'timeout' | 'reset'> {
    return new Promise((resolve) => {
      const req = request(`${gateway.url}${shot.path}`, { method: shot.method, headers: shot.headers, agent, timeout: 5_000 }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8').slice(0, 300) }));
        res.on('error', () => resolve('reset'));
      });
      // An SSE stream (a GET, or a POST whose answer streams) that stays open is not a failure: stop reading it.
      req.on('timeout', () => {
        req.destroy();
        resolve('timeout');
      });
      req.on('error', () => resolve('reset'));
      req.end(shot.body);
    });
  }

  async function initialize(): Promise<string> {
    const body = Buffer.from(JSON.stringify(templates(seededRandom(1), 'healthy__lookup')[0]));
    const headers = goodHeaders(undefined);
    const id = await new Promise<string>((resolve, reject) => {
      const req = request(`${gateway.url}/mcp/main`, { method: 'POST', headers, agent }, (res) => {
        res.resume();
        res.on('end', () => resolve(String(res.headers['mcp-session-id'])));
      });
      req.on('error', reject);
      req.end(body);
    });
    await send({ method: 'POST', path: '/mcp/main', headers: goodHeaders(id), session: undefined, body: Buffer.from('{"jsonrpc":"2.0","method":"notifications/initialized"}'), what: 'initialized' });
    return id;
  }

  function goodHeaders(session: string | undefined): Record<string, string> {
    return {
      authorization: `Bearer ${TOKEN}`,
      accept: 'application/json, text/event-stream',
      'content-type': 'application/json',
      'mcp-protocol-version': '2025-06-18',
      ...(session ? { 'mcp-session-id': session } : {}),
    };
  }

  function shotFor(random: Random): Shot {
    const session = random() < 0.8 ? int(random, sessions.length) : pick(random, [undefined, 'not-a-session', '00000000-0000-0000-0000-000000000000', 'x'.repeat(300)]);
    const headers = goodHeaders(undefined);
    let path = '/mcp/main';
    let method = 'POST';
    const header = int(random, 20);
    if (header === 0) delete headers.authorization;
    if (header === 1) headers.authorization = pick(random, ['Bearer wrong', 'Basic abc', 'Bearer', `Bearer ${TOKEN} extra`]);
    if (header === 2) headers.accept = pick(random, ['', 'application/json', 'text/html', '*/*']);
    if (header === 3) headers['content-type'] = pick(random, ['text/plain', '', 'application/json; charset=latin1', 'multipart/form-data']);
    if (header === 4) headers['mcp-protocol-version'] = pick(random, ['1999-01-01', '', 'latest']);
    if (header === 5) path = pick(random, ['/mcp/nope', '/mcp/', '/mcp/main/extra', '/', '/api/servers', '/api/approvals/x/approve', '/healthz?x=1', '/mcp/main?x=%ff', '//mcp/main']);
    if (header === 6) method = pick(random, ['GET', 'DELETE', 'PUT', 'PATCH', 'OPTIONS', 'HEAD']);
    if (header === 7) headers.host = pick(random, ['evil.example', '', 'localhost:1']);
    if (header === 8) headers.origin = pick(random, ['http://evil.example', 'null']);
    const base = pick(random, templates(random, pick(random, ['healthy__lookup', 'healthy__record', 'healthy__nope'])));
    const style = int(random, 10);
    let body: Buffer;
    let what: string;
    if (style < 4) {
      const mutated = mutate(random, base);
      body = Buffer.from(mutated instanceof RawJson ? mutated.text : JSON.stringify(mutated));
      what = `mutated ${String(base.method ?? 'response')}`;
    } else if (style < 6) {
      body = Buffer.from(JSON.stringify(randomValue(random)) ?? 'null');
      what = 'random JSON';
    } else if (style < 8) {
      body = corrupt(random, JSON.stringify(base));
      what = `corrupted ${String(base.method ?? 'response')}`;
    } else {
      body = Buffer.from(JSON.stringify(base));
      what = `valid ${String(base.method ?? 'response')}`;
    }
    if (method === 'GET' || method === 'HEAD' || method === 'OPTIONS') return { session, method, path, headers, body: undefined, what: `${method} ${path}` };
    return { session, method, path, headers: { ...headers, 'content-length': String(body.length) }, body, what };
  }

  test(`${MESSAGES} random and mutated messages (seed ${SEED}): no 5xx, no internal error, no crash, and the gateway still serves`, async () => {
    const random = seededRandom(SEED);
    const shots = Array.from({ length: MESSAGES }, () => shotFor(random));
    const statuses = new Map<string, number>();
    const serverErrors: string[] = [];
    /** JSON-RPC internal errors (-32603): a client's mistake must be named as one (-32602, -32600, …), never blamed on the gateway. */
    const internalErrors: string[] = [];
    const started = performance.now();
    let sent = 0;
    let next = 0;
    let reopened = 0;
    /** Answers still open after 5 s: a GET stream is meant to stay open; a POST should not. */
    const timeouts: string[] = [];
    const worker = async () => {
      while (next < shots.length && performance.now() - started < BUDGET_MS) {
        const shot = shots[next++]!;
        const sessionId = typeof shot.session === 'number' ? sessions[shot.session] : shot.session;
        const reply = await send(sessionId === undefined ? shot : { ...shot, headers: { ...shot.headers, 'mcp-session-id': sessionId } });
        // A fuzzed DELETE ended a live session: open another in its place, so that later messages still reach a session.
        if (typeof shot.session === 'number' && typeof reply !== 'string' && reply.status === 404 && /session not found/i.test(reply.body) && sessions[shot.session] === sessionId) {
          sessions[shot.session] = await initialize();
          reopened += 1;
        }
        sent += 1;
        const key = typeof reply === 'string' ? reply : String(reply.status);
        statuses.set(key, (statuses.get(key) ?? 0) + 1);
        if (reply === 'timeout' && timeouts.length < 5) timeouts.push(`${shot.what} ${shot.method} ${shot.path}`);
        if (typeof reply !== 'string' && reply.status >= 500) serverErrors.push(`${reply.status} for ${shot.what} ${shot.method} ${shot.path}: ${reply.body}`);
        if (typeof reply !== 'string' && reply.body.includes('"code":-32603')) internalErrors.push(`${shot.what} ${shot.method} ${shot.path}: ${reply.body}`);
        assert.equal(gateway.process.exitCode, null, `the gateway exited after ${shot.what}`);
      }
    };
    await Promise.all(Array.from({ length: CONCURRENCY }, worker));
    const seconds = (performance.now() - started) / 1000;
    console.log(`fuzzer: ${sent} messages in ${seconds.toFixed(1)} s (seed ${SEED}); HTTP statuses ${JSON.stringify(Object.fromEntries([...statuses].sort()))}; ${reopened} sessions reopened after a fuzzed DELETE${timeouts.length > 0 ? `; still open after 5 s: ${timeouts.join(' | ')}` : ''}`);
    assert.ok(sent >= Math.min(MESSAGES, 1000), `only ${sent} messages were sent within the budget`);
    assert.deepEqual(serverErrors.slice(0, 10), [], `${serverErrors.length} answers were 5xx`);
    assert.deepEqual(internalErrors.slice(0, 10), [], `${internalErrors.length} answers were internal errors (-32603)`);
    assert.equal(gateway.process.exitCode, null);
    assert.equal(gateway.process.signalCode, null);
    const client = await httpClient(gateway.url, 'main', TOKEN);
    try {
      assert.equal(text(await client.callTool({ name: 'healthy__lookup', arguments: { id: 'after-fuzz' } })), 'ok after-fuzz');
    } finally {
      await client.close();
    }
  });
});

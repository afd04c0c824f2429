import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { toYaml } from '../src/config/yaml.js';
import { request } from 'node:http';
import path from 'node:path';
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { ElicitRequestSchema } from '@modelcontextprotocol/sdk/types.js';
import { openSqlite } from '../src/adapters/sqlite/database.js';
import { SqliteEventStore } from '../src/adapters/sqlite/event-store.js';
import { DEFERRED_FLUSH_MS } from '../src/gateway/event-outbox.js';
import { setTimeout as sleep } from 'node:timers/promises';
import { gatehouseOutcome, httpClient, REPO, runCli, startServe, tempConfig, text, TOKENS, waitFor, type RunningGateway, type ToolResult } from './helpers/gatehouse.js';

const FIXTURE = path.join(REPO, 'dist/test/fixtures/governance-server.js');
const OPERATOR_TOKEN = 'operator-token-0123456789';
const ENV = { TEST_OPERATOR_TOKEN: OPERATOR_TOKEN };

function governanceConfig(dir: string, overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    store: { kind: 'sqlite', path: 'state/gatehouse.db' },
    servers: {
      gov: {
        command: process.execPath,
        args: [FIXTURE],
        env: { GOV_EXECUTIONS_FILE: path.join(dir, 'executions.jsonl'), GOV_VARIANT: '${GOV_VARIANT:-a}' },
        tools: {
          read_value: { gate: 'G0' },
          write_note: { gate: 'G1' },
          update_record: { gate: 'G2' },
          send_message: { gate: 'G3' },
          slow_write: { gate: 'G0' },
        },
      },
    },
    profiles: {
      waiting: { allow: ['gov/*'], approval: { mode: 'wait', timeoutMs: 20_000 } },
      impatient: { allow: ['gov/*'], approval: { mode: 'wait', timeoutMs: 1_200 } },
      asking: { allow: ['gov/*'], approval: { mode: 'wait', timeoutMs: 20_000, elicit: true } },
      returning: { allow: ['gov/*'], approval: { mode: 'return' } },
      brief: { allow: ['gov/*'], approval: { mode: 'return', timeoutMs: 600 } },
      lazy: { mode: 'lazy', allow: ['gov/*'], approval: { mode: 'return' } },
    },
    agents: {
      alice: { profiles: ['waiting', 'impatient', 'returning', 'brief', 'lazy', 'asking'], tokenEnv: 'TEST_TOKEN_ALICE' },
      bob: { profiles: ['returning', 'lazy'], tokenEnv: 'TEST_TOKEN_BOB' },
    },
    operators: { ops: { tokenEnv: 'TEST_OPERATOR_TOKEN' } },
    ...overrides,
  };
}

function executions(dir: string): Array<{ tool: string; arguments: Record<string, unknown> }> {
  const file = path.join(dir, 'executions.jsonl');
  if (!existsSync(file)) return [];
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((line) => JSON.parse(line) as { tool: string; arguments: Record<string, unknown> });
}

function cli(configPath: string, ...args: string[]) {
  return runCli([...args, '--config', configPath], ENV);
}

function pendingApprovals(configPath: string): Array<Record<string, unknown>> {
  const listed = cli(configPath, 'approvals', 'list', '--json');
  assert.equal(listed.status, 0, listed.stderr);
  return JSON.parse(listed.stdout) as Array<Record<string, unknown>>;
}

async function api(gateway: RunningGateway, method: string, route: string, token: string, body?: unknown) {
  const response = await fetch(`${gateway.url}${route}`, {
    method,
    headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

/** A POST whose body goes out in the chunks given, without a Content-Length (chunked transfer encoding). */
function rawPost(gateway: RunningGateway, route: string, token: string, chunks: string[]): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(`${gateway.url}${route}`, { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', 'transfer-encoding': 'chunked' } }, (res) => {
      let body = '';
      res.on('data', (chunk: Buffer) => (body += chunk.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    for (const chunk of chunks) req.write(chunk);
    req.end();
  });
}

describe('governance through a real gateway, client and fixture server', () => {
  let temp: ReturnType<typeof tempConfig>;
  let gateway: RunningGateway;
  const clients: Client[] = [];
  const client = async (profile: string, token = TOKENS.alice) => {
    const connected = await httpClient(gateway.url, profile, token);
    clients.push(connected);
    return connected;
  };
  const call = (c: Client, name: string, args: Record<string, unknown>, meta?: Record<string, unknown>) =>
    c.callTool({ name, arguments: args, ...(meta ? { _meta: meta } : {}) }) as Promise<ToolResult>;
  const executionsOf = (tool: string) => executions(temp.dir).filter((e) => e.tool === tool);

  before(async () => {
    temp = tempConfig({});
    writeFileSync(temp.configPath, toYaml(governanceConfig(temp.dir)));
    gateway = await startServe(temp.configPath, ENV);
  });

  after(async () => {
    for (const c of clients) await c.close().catch(() => undefined);
    await gateway.stop();
    temp.cleanup();
  });

  test('G0 runs at once; G1 runs and leaves a review item that an operator acknowledges', async () => {
    const alice = await client('waiting');
    assert.equal(text(await call(alice, 'gov__read_value', {})), 'the fixed value 42');
    const note = await call(alice, 'gov__write_note', { text: 'remember the milk' });
    assert.equal(note.isError, undefined, text(note));
    assert.equal(executionsOf('write_note').length, 1);

    const listed = cli(temp.configPath, 'review', 'list', '--json');
    assert.equal(listed.status, 0, listed.stderr);
    const items = JSON.parse(listed.stdout) as Array<{ id: string; tool: string; arguments: unknown; agent: string }>;
    const item = items.find((i) => i.tool === 'write_note');
    assert.ok(item, listed.stdout);
    assert.deepEqual(item.arguments, { text: 'remember the milk' });
    assert.equal(item.agent, 'alice');
    // The same write again is a replay of the first: it runs once and is reviewed once.
    const replayed = await call(alice, 'gov__write_note', { text: 'remember the milk' });
    assert.ok(replayed._meta?.['gatehouse/replay'], text(replayed));
    assert.equal(executionsOf('write_note').length, 1);
    const relisted = JSON.parse(cli(temp.configPath, 'review', 'list', '--json').stdout) as Array<{ tool: string }>;
    assert.equal(relisted.filter((i) => i.tool === 'write_note').length, 1, 'one review item');
    assert.equal(cli(temp.configPath, 'review', 'ack', item.id, '--by', 'carol').status, 0);
    const again = cli(temp.configPath, 'review', 'ack', item.id);
    assert.equal(again.status, 1);
    assert.match(again.stderr, /GH_REVIEW_UNKNOWN/);
  });

  test('G2 waits for a human: approved from another process, it runs once with the approved arguments', async () => {
    const alice = await client('waiting');
    const pending = call(alice, 'gov__update_record', { id: 'r1', value: 'v1' });
    let request: Record<string, unknown> | undefined;
    await waitFor(() => (request = pendingApprovals(temp.configPath).find((a) => a.tool === 'update_record')) !== undefined, 10_000, 'the approval request');
    assert.equal(request!.agent, 'alice');
    assert.equal(request!.profile, 'waiting');
    assert.deepEqual(request!.arguments, { id: 'r1', value: 'v1' });
    assert.match(String(request!.reason), /G2 \(config servers\.gov\.tools\.update_record\)/);
    assert.equal(executionsOf('update_record').length, 0, 'nothing runs before the approval');

    const self = cli(temp.configPath, 'approvals', 'approve', String(request!.id), '--by', 'alice');
    assert.equal(self.status, 1);
    assert.match(self.stderr, /GH_SELF_APPROVAL/);

    const approved = cli(temp.configPath, 'approvals', 'approve', String(request!.id), '--by', 'carol');
    assert.equal(approved.status, 0, approved.stderr);
    const result = await pending;
    assert.equal(result.isError, undefined, text(result));
    assert.equal(text(result), 'record r1 = v1');
    assert.equal(executionsOf('update_record').length, 1);
    const shown = JSON.parse(cli(temp.configPath, 'approvals', 'show', String(request!.id)).stdout) as { status: string; decidedBy: string };
    assert.equal(shown.status, 'consumed');
    assert.equal(shown.decidedBy, 'carol');
    // Keyed by its approval, as a call that names it is: a crash in flight would leave an unknown commit, not nothing.
    const ledger = openSqlite(path.join(temp.dir, 'state/gatehouse.db'));
    try {
      const row = ledger.prepare('SELECT state FROM idempotency WHERE key = ?').get(`approval:${String(request!.id)}`) as { state: string } | undefined;
      assert.equal(row?.state, 'committed');
    } finally {
      ledger.close();
    }
  });

  test('G2 with no decision in time is denied (timeout means deny) and the request expires', async () => {
    const alice = await client('impatient');
    const started = Date.now();
    const result = await call(alice, 'gov__update_record', { id: 'late', value: 'x' });
    assert.equal(gatehouseOutcome(result).code, 'GH_APPROVAL_TIMEOUT');
    assert.ok(Date.now() - started >= 1_000, 'waited for the timeout');
    assert.equal(executions(temp.dir).filter((e) => e.arguments.id === 'late').length, 0);
    const id = String(gatehouseOutcome(result).data.approval);
    assert.equal((JSON.parse(cli(temp.configPath, 'approvals', 'show', id).stdout) as { status: string }).status, 'expired');
  });

  test('return mode: a request no one decided in time expires (timeout means deny), whoever reads it first', async () => {
    const alice = await client('brief');
    const held = gatehouseOutcome(await call(alice, 'gov__update_record', { id: 'late2', value: 'x' }));
    assert.equal(held.code, 'GH_APPROVAL_PENDING');
    const id = String(held.data.approvalId);
    await new Promise((resolve) => setTimeout(resolve, 800));
    // Past its deadline: not listed as pending, not decidable, and the call with its id is denied.
    assert.ok(!pendingApprovals(temp.configPath).some((approval) => approval.id === id), 'not listed as pending');
    const late = await api(gateway, 'POST', `/api/approvals/${id}/approve`, OPERATOR_TOKEN);
    assert.equal(late.status, 409);
    assert.match(String((late.body.error as { message: string }).message), /cannot be decided: it is expired/);
    const again = gatehouseOutcome(await call(alice, 'gov__update_record', { id: 'late2', value: 'x', approval_id: id }));
    assert.equal(again.code, 'GH_APPROVAL_EXPIRED');
    assert.equal((JSON.parse(cli(temp.configPath, 'approvals', 'show', id).stdout) as { status: string }).status, 'expired');
    assert.equal(executions(temp.dir).filter((e) => e.arguments.id === 'late2').length, 0);
    const events = new SqliteEventStore(openSqlite(path.join(temp.dir, 'state/gatehouse.db')));
    assert.equal((await events.read({ type: 'approval.expired' })).filter((event) => event.payload.approval === id).length, 1, 'expired once, though read by three processes');
  });

  test('the HTTP approvals API: operator token only; a rejection reason reaches the waiting agent', async () => {
    const alice = await client('waiting');
    const pending = call(alice, 'gov__update_record', { id: 'r2', value: 'no' });
    let request: Record<string, unknown> | undefined;
    await waitFor(() => (request = pendingApprovals(temp.configPath).find((a) => (a.arguments as { id?: string }).id === 'r2')) !== undefined);
    const id = String(request!.id);

    assert.equal((await api(gateway, 'GET', '/api/approvals', TOKENS.alice)).status, 403, 'an agent token is not an operator token');
    assert.equal((await api(gateway, 'GET', '/api/approvals', 'nobody')).status, 401);
    const listed = await api(gateway, 'GET', '/api/approvals?status=pending', OPERATOR_TOKEN);
    assert.equal(listed.status, 200);
    assert.ok((listed.body.approvals as Array<{ id: string }>).some((a) => a.id === id));
    for (const query of ['status=bogus', 'limit=-1', 'limit=abc', 'limit=0', 'limit=1001', 'limit=1e2', 'limit=0x10', 'limit=%201']) {
      const bad = await api(gateway, 'GET', `/api/approvals?${query}`, OPERATOR_TOKEN);
      assert.equal(bad.status, 400, query);
      assert.equal((bad.body.error as { code: string }).code, 'GH_INVALID_ARGUMENTS', query);
    }
    assert.equal(((await api(gateway, 'GET', '/api/approvals?limit=1', OPERATOR_TOKEN)).body.approvals as unknown[]).length, 1);
    const unknownId = await api(gateway, 'GET', '/api/approvals/apr-not-an-id', OPERATOR_TOKEN);
    assert.equal(unknownId.status, 404);
    assert.equal((unknownId.body.error as { code: string }).code, 'GH_APPROVAL_UNKNOWN');
    const wrongMethod = await fetch(`${gateway.url}/api/approvals`, { method: 'PUT', headers: { authorization: `Bearer ${OPERATOR_TOKEN}` } });
    assert.equal(wrongMethod.status, 405);
    assert.equal(wrongMethod.headers.get('allow'), 'GET');
    await wrongMethod.body?.cancel();
    assert.equal((await api(gateway, 'POST', `/api/approvals/${id}/reject`, OPERATOR_TOKEN, {})).status, 400, 'a rejection needs a reason');
    assert.equal((await api(gateway, 'POST', `/api/approvals/${id}/reject`, OPERATOR_TOKEN, { reason: '   ' })).status, 400, 'a blank reason is none');
    assert.equal((await api(gateway, 'POST', `/api/approvals/${id}/approve`, TOKENS.alice)).status, 403);
    // A body is read whatever its transfer encoding: malformed JSON sent in chunks decides nothing.
    for (const action of ['approve', 'reject']) {
      const chunked = await rawPost(gateway, `/api/approvals/${id}/${action}`, OPERATOR_TOKEN, ['{bad', ' json']);
      assert.equal(chunked.status, 400, `${action}: ${chunked.body}`);
      assert.match(chunked.body, /body is not JSON/);
    }
    const oversized = await rawPost(gateway, `/api/approvals/${id}/approve`, OPERATOR_TOKEN, [JSON.stringify({ reason: 'x'.repeat(5 * 1024 * 1024) })]);
    assert.equal(oversized.status, 413);
    assert.match(oversized.body, /GH_BODY_TOO_LARGE/);
    assert.ok(pendingApprovals(temp.configPath).some((approval) => approval.id === id), 'still pending after the refused bodies');

    const rejected = await api(gateway, 'POST', `/api/approvals/${id}/reject`, OPERATOR_TOKEN, { reason: 'r2 is frozen until Monday' });
    assert.equal(rejected.status, 200, JSON.stringify(rejected.body));
    const result = await pending;
    assert.equal(gatehouseOutcome(result).code, 'GH_APPROVAL_REJECTED');
    assert.match(text(result), /r2 is frozen until Monday/);
    assert.equal((await api(gateway, 'POST', `/api/approvals/${id}/approve`, OPERATOR_TOKEN)).status, 409, 'decided once');
    assert.equal(executions(temp.dir).filter((e) => e.arguments.id === 'r2').length, 0);
  });

  test('G2 return mode: a pending id now, the call again with it once approved; the grant is bound to the arguments and single-use', async () => {
    const alice = await client('returning');
    const first = await call(alice, 'gov__update_record', { id: 'r3', value: 'v3' });
    const held = gatehouseOutcome(first);
    assert.equal(held.code, 'GH_APPROVAL_PENDING');
    const id = String(held.data.approvalId);
    assert.match(text(first), new RegExp(`approval_id: "${id}"`));
    assert.equal(gatehouseOutcome(await call(alice, 'gov__update_record', { id: 'r3', value: 'v3', approval_id: id })).code, 'GH_APPROVAL_PENDING');

    assert.equal((await api(gateway, 'POST', `/api/approvals/${id}/approve`, OPERATOR_TOKEN)).status, 200);
    const swapped = await call(alice, 'gov__update_record', { id: 'r3', value: 'EVIL', approval_id: id });
    assert.equal(gatehouseOutcome(swapped).code, 'GH_APPROVAL_MISMATCH');
    const bob = await client('returning', TOKENS.bob);
    const foreign = gatehouseOutcome(await call(bob, 'gov__update_record', { id: 'r3', value: 'v3', approval_id: id }));
    assert.equal(foreign.code, 'GH_APPROVAL_MISMATCH');
    assert.match(foreign.message, /it was requested by agent "alice" on profile "returning"/);

    const ran = await call(alice, 'gov__update_record', { id: 'r3', value: 'v3', approval_id: id });
    assert.equal(text(ran), 'record r3 = v3');
    const again = await call(alice, 'gov__update_record', { id: 'r3', value: 'v3', approval_id: id });
    assert.equal(text(again), 'record r3 = v3');
    assert.ok(again._meta?.['gatehouse/replay'], 'the second use is a replay of the first');
    assert.equal(executions(temp.dir).filter((e) => e.arguments.id === 'r3').length, 1);
  });

  test('approval.elicit asks the person at the client through elicitation; their answer decides', async () => {
    const asked: string[] = [];
    const answering = async (answer: { decision: string; reason?: string }) => {
      const connected = await httpClient(gateway.url, 'asking', TOKENS.alice, { elicitation: {} });
      clients.push(connected);
      connected.setRequestHandler(ElicitRequestSchema, (request) => {
        asked.push(request.params.message);
        return { action: 'accept', content: answer };
      });
      return connected;
    };
    const yes = await answering({ decision: 'approve' });
    assert.equal(text(await call(yes, 'gov__update_record', { id: 'el1', value: 'yes' })), 'record el1 = yes');
    assert.match(asked[0]!, /agent "alice" .* gov__update_record, gate G2/);
    assert.match(asked[0]!, /"id":"el1"/);
    const no = await answering({ decision: 'reject', reason: 'not on a Friday' });
    const refused = await call(no, 'gov__update_record', { id: 'el2', value: 'no' });
    assert.equal(gatehouseOutcome(refused).code, 'GH_APPROVAL_REJECTED');
    assert.match(text(refused), /not on a Friday/);
    assert.equal(executions(temp.dir).filter((e) => e.arguments.id === 'el2').length, 0);
    const id = String(gatehouseOutcome(refused).data.approval);
    assert.match((JSON.parse(cli(temp.configPath, 'approvals', 'show', id).stdout) as { decidedBy: string }).decidedBy, /elicitation/);
  });

  test('dry_run on a G2 call returns the decision and plan, asks no one and executes nothing', async () => {
    const alice = await client('waiting');
    const before = pendingApprovals(temp.configPath).length;
    const result = await call(alice, 'gov__update_record', { id: 'dry', value: 'x', dry_run: true });
    const held = gatehouseOutcome(result);
    assert.equal(held.code, 'GH_DRY_RUN');
    const plan = held.data.plan as { arguments: unknown; decision: { gate: string; steps: string[] }; digest: string };
    assert.deepEqual(plan.arguments, { id: 'dry', value: 'x' });
    assert.equal(plan.decision.gate, 'G2');
    assert.deepEqual(plan.decision.steps, ['human approval']);
    assert.match(plan.digest, /^[0-9a-f]{64}$/);
    assert.equal(pendingApprovals(temp.configPath).length, before);
    assert.equal(executions(temp.dir).filter((e) => e.arguments.id === 'dry').length, 0);
  });

  test('dry_run on a G3 call plans only: no preflight, no confirm token, no approval request', async () => {
    const alice = await client('returning');
    const before = pendingApprovals(temp.configPath).length;
    const held = gatehouseOutcome(await call(alice, 'gov__send_message', { to: 'dry@example.com', text: 'plan only', dry_run: true }));
    assert.equal(held.code, 'GH_DRY_RUN');
    assert.equal(held.data.confirmToken, undefined);
    assert.equal((held.data.plan as { decision: { gate: string } }).decision.gate, 'G3');
    assert.equal(pendingApprovals(temp.configPath).length, before);
    assert.equal(executions(temp.dir).filter((e) => e.arguments.to === 'dry@example.com').length, 0);
  });

  test('G3: preflight with a signed token and the tool\'s own dry run; tampered, foreign and swapped confirms are refused; 50 concurrent confirms execute once', async () => {
    const alice = await client('returning');
    const args = { to: 'ops@example.com', text: 'quarterly numbers' };
    const first = await call(alice, 'gov__send_message', args);
    const preflight = gatehouseOutcome(first);
    assert.equal(preflight.code, 'GH_CONFIRM_REQUIRED');
    const token = String(preflight.data.confirmToken);
    const approvalId = String(preflight.data.approvalId);
    const plan = preflight.data.plan as { toolDryRun: ToolResult; decision: { steps: string[] } };
    assert.match(text(plan.toolDryRun), /dry run: would send/);
    assert.deepEqual(plan.decision.steps, ['preflight', 'human approval', 'confirm "SEND"']);
    assert.equal(executionsOf('send_message').length, 0, 'a preflight sends nothing');

    assert.equal(gatehouseOutcome(await call(alice, 'gov__send_message', { ...args, confirm: 'SEND', confirm_token: token })).code, 'GH_APPROVAL_PENDING');
    assert.equal((await api(gateway, 'POST', `/api/approvals/${approvalId}/approve`, OPERATOR_TOKEN)).status, 200);

    const tampered = token.slice(0, -2) + (token.endsWith('A') ? 'BB' : 'AA');
    assert.match(gatehouseOutcome(await call(alice, 'gov__send_message', { ...args, confirm: 'SEND', confirm_token: tampered })).message, /signature/);
    const swapped = await call(alice, 'gov__send_message', { ...args, text: 'wire the money', confirm: 'SEND', confirm_token: token });
    assert.equal(gatehouseOutcome(swapped).code, 'GH_CONFIRM_INVALID');
    const bob = await client('returning', TOKENS.bob);
    assert.match(gatehouseOutcome(await call(bob, 'gov__send_message', { ...args, confirm: 'SEND', confirm_token: token })).message, /issued to agent "alice"/);
    assert.equal(gatehouseOutcome(await call(alice, 'gov__send_message', { ...args, confirm: 'YES', confirm_token: token })).code, 'GH_INVALID_ARGUMENTS');
    // The token alone is not the second step: it needs confirm: "SEND" too, and starts no new preflight.
    const requestsBefore = pendingApprovals(temp.configPath).length;
    const tokenOnly = gatehouseOutcome(await call(alice, 'gov__send_message', { ...args, confirm_token: token }));
    assert.equal(tokenOnly.code, 'GH_CONFIRM_INVALID');
    assert.equal(tokenOnly.data.why, 'incomplete');
    assert.equal(pendingApprovals(temp.configPath).length, requestsBefore, 'no new approval request');
    assert.equal(executionsOf('send_message').length, 0);

    const confirms = await Promise.all(
      Array.from({ length: 50 }, async () => {
        const c = await httpClient(gateway.url, 'returning', TOKENS.alice);
        try {
          return await call(c, 'gov__send_message', { ...args, confirm: 'SEND', confirm_token: token });
        } finally {
          await c.close();
        }
      }),
    );
    assert.equal(executionsOf('send_message').length, 1, 'exactly one execution');
    const sent = confirms.filter((r) => !r.isError && r._meta?.['gatehouse/replay'] === undefined);
    assert.equal(sent.length, 1);
    for (const r of confirms.filter((c) => c !== sent[0])) {
      assert.ok(r._meta?.['gatehouse/replay'] || gatehouseOutcome(r).code === 'GH_IDEMPOTENCY_CONFLICT', text(r));
    }
    const replay = await call(alice, 'gov__send_message', { ...args, confirm: 'SEND', confirm_token: token });
    assert.ok(replay._meta?.['gatehouse/replay']);
    assert.equal(executionsOf('send_message').length, 1);
  });

  test('an expired confirm token is refused end to end, and nothing is sent', async () => {
    const short = tempConfig({});
    writeFileSync(short.configPath, toYaml(governanceConfig(short.dir, { governance: { confirmTtlMs: 600 } })));
    const other = await startServe(short.configPath, ENV);
    try {
      const alice = await httpClient(other.url, 'returning', TOKENS.alice);
      const args = { to: 'late@example.com', text: 'too late' };
      const preflight = gatehouseOutcome(await call(alice, 'gov__send_message', args));
      assert.equal((await api(other, 'POST', `/api/approvals/${String(preflight.data.approvalId)}/approve`, OPERATOR_TOKEN)).status, 200);
      await new Promise((resolve) => setTimeout(resolve, 800));
      const late = gatehouseOutcome(await call(alice, 'gov__send_message', { ...args, confirm: 'SEND', confirm_token: preflight.data.confirmToken }));
      assert.equal(late.code, 'GH_CONFIRM_INVALID');
      assert.match(late.message, /expired/);
      assert.equal(executions(short.dir).length, 0);
      await alice.close();
    } finally {
      await other.stop();
      short.cleanup();
    }
  });

  test('idempotency keys: a replay returns the stored result, other arguments are refused, a concurrent duplicate conflicts', async () => {
    const alice = await client('waiting');
    const key = { 'gatehouse/idempotencyKey': 'order-7' };
    const first = await call(alice, 'gov__slow_write', { ms: 300 }, key);
    const duplicate = call(alice, 'gov__slow_write', { ms: 300 }, { 'gatehouse/idempotencyKey': 'order-8' });
    const concurrent = await Promise.all([duplicate, call(alice, 'gov__slow_write', { ms: 300 }, { 'gatehouse/idempotencyKey': 'order-8' })]);
    assert.equal(concurrent.filter((r) => r._meta?.gatehouse && gatehouseOutcome(r).code === 'GH_IDEMPOTENCY_CONFLICT').length, 1);
    const replay = await call(alice, 'gov__slow_write', { ms: 300 }, key);
    assert.equal(text(replay), text(first));
    assert.deepEqual((replay._meta?.['gatehouse/replay'] as { key: string }).key, 'order-7');
    assert.equal(gatehouseOutcome(await call(alice, 'gov__slow_write', { ms: 5 }, key)).code, 'GH_IDEMPOTENCY_MISMATCH');
    assert.equal(executionsOf('slow_write').length, 2, 'order-7 once, order-8 once');
  });

  test('lazy profile: the same gates through call_tool, and approval_status', async () => {
    const alice = await client('lazy');
    const names = (await alice.listTools()).tools.map((t) => t.name);
    assert.ok(names.includes('approval_status'), names.join(','));
    const held = gatehouseOutcome(await call(alice, 'call_tool', { name: 'gov__update_record', arguments: { id: 'lz', value: '1' } }));
    assert.equal(held.code, 'GH_APPROVAL_PENDING');
    const status = await call(alice, 'approval_status', { approval_id: String(held.data.approvalId) });
    assert.equal((JSON.parse(text(status)) as { status: string }).status, 'pending');
    const bob = await client('lazy', TOKENS.bob);
    const foreign = await call(bob, 'approval_status', { approval_id: String(held.data.approvalId) });
    assert.equal(foreign.isError, true);
    assert.match(text(foreign), /GH_APPROVAL_UNKNOWN: no approval request "apr_[^"]+" of agent "bob"/, "another agent's approval is unknown to bob");
    const described = JSON.parse(text(await call(alice, 'describe_tool', { name: 'gov__send_message' }))) as { inputSchema: { properties: Record<string, unknown> } };
    assert.ok(described.inputSchema.properties.confirm_token, 'G3 tools show their control arguments');
  });

  test('every call left exactly one call event, with its gate', async () => {
    // The last calls' events are durable in the gateway's journal; they reach the store with its next batch.
    await sleep(DEFERRED_FLUSH_MS + 100);
    const events = new SqliteEventStore(openSqlite(path.join(temp.dir, 'state/gatehouse.db')));
    const calls = (await events.read()).filter((e) => (e.type.startsWith('tool.call.') && e.type !== 'tool.call.requested') || e.type === 'policy.denied');
    assert.ok(calls.length > 70, `${calls.length} call events`);
    assert.ok(calls.every((e) => e.payload.gate !== undefined));
    for (const type of ['approval.requested', 'approval.granted', 'approval.rejected', 'approval.expired', 'preflight.issued', 'commit.executed', 'idempotent.replay', 'review.requested', 'review.acknowledged']) {
      assert.ok((await events.count(type)) > 0, `no ${type} event`);
    }
    assert.equal(await events.count('commit.executed'), 1);
    assert.deepEqual(new Set((await events.read({ type: 'tool.call.requested' })).map((e) => e.payload.runId)), new Set(calls.map((e) => e.payload.runId)), 'each outcome closes a requested run');
  });
});

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { toYaml } from '../src/config/yaml.js';
import { httpClient, REPO, runCli, startServe, tempConfig, text, TOKENS, waitFor, type RunningGateway } from './helpers/gatehouse.js';
import { postgresForThisFile } from './helpers/postgres.js';

// Two real `gatehouse serve` processes on one real PostgreSQL database (DESIGN.md, "Stores";
// issue 5, section 6).
const postgres = postgresForThisFile();

const FIXTURE = path.join(REPO, 'dist/test/fixtures/governance-server.js');
const OPERATOR_TOKEN = 'operator-token-0123456789';

/** How soon a decision made through one gateway must wake the call waiting on the other. */
const WAKE_BUDGET_MS = 200;

interface GovResult {
  isError?: boolean;
  content: Array<{ type: string; text?: string }>;
  _meta?: Record<string, unknown>;
}

function config(dir: string): Record<string, unknown> {
  return {
    // From the environment, as a deployment would keep it.
    store: { kind: 'postgres', url: '${GATEHOUSE_TEST_DATABASE_URL}' },
    servers: {
      gov: {
        command: process.execPath,
        args: [FIXTURE],
        env: { GOV_EXECUTIONS_FILE: path.join(dir, 'executions.jsonl') },
        tools: { update_record: { gate: 'G2' }, slow_write: { gate: 'G0' } },
      },
    },
    profiles: { waiting: { allow: ['gov/*'], approval: { mode: 'wait', timeoutMs: 30_000 } } },
    agents: { alice: { profiles: ['waiting'], tokenEnv: 'TEST_TOKEN_ALICE' } },
    operators: { ops: { tokenEnv: 'TEST_OPERATOR_TOKEN' } },
    // A minute: a waiting call that woke within the budget was woken by NOTIFY, not by its poll.
    governance: { approvalPollMs: 60_000 },
  };
}

function executions(dir: string): Array<{ tool: string; arguments: Record<string, unknown>; pid: number }> {
  const file = path.join(dir, 'executions.jsonl');
  if (!existsSync(file)) return [];
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((line) => JSON.parse(line) as { tool: string; arguments: Record<string, unknown>; pid: number });
}

async function api(gateway: RunningGateway, method: string, route: string): Promise<{ status: number; body: Record<string, unknown> }> {
  const response = await fetch(`${gateway.url}${route}`, { method, headers: { authorization: `Bearer ${OPERATOR_TOKEN}` } });
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

describe('two gatehouse serve processes on one PostgreSQL database', () => {
  let temp: ReturnType<typeof tempConfig>;
  let env: Record<string, string>;
  const gateways: RunningGateway[] = [];
  const clients: Client[] = [];
  const call = (c: Client, name: string, args: Record<string, unknown>, meta?: Record<string, unknown>) =>
    c.callTool({ name, arguments: args, ...(meta ? { _meta: meta } : {}) }) as Promise<GovResult>;
  const alice = async (gateway: RunningGateway) => {
    const client = await httpClient(gateway.url, 'waiting', TOKENS.alice);
    clients.push(client);
    return client;
  };

  before(async () => {
    temp = tempConfig({});
    writeFileSync(temp.configPath, toYaml(config(temp.dir)));
    env = { GATEHOUSE_TEST_DATABASE_URL: await postgres.freshDatabase(), TEST_OPERATOR_TOKEN: OPERATOR_TOKEN };
    // Both at once on the empty database: the migrations must not race.
    gateways.push(...(await Promise.all([startServe(temp.configPath, env), startServe(temp.configPath, env)])));
  });

  after(async () => {
    for (const c of clients) await c.close().catch(() => undefined);
    for (const gateway of gateways) await gateway.stop();
    temp?.cleanup();
  });

  test(`a G2 approval granted through one gateway (its HTTP API, or the CLI) wakes the call waiting on the other within ${WAKE_BUDGET_MS} ms`, async () => {
    const [a, b] = gateways as [RunningGateway, RunningGateway];
    const rounds: Array<{ waitsOn: string; decidedThrough: string; wakeMs: number; answerMs: number }> = [];
    const plan = [
      { waiting: a, deciding: b, waitsOn: 'A', decidedThrough: 'HTTP API of B' },
      { waiting: b, deciding: a, waitsOn: 'B', decidedThrough: 'HTTP API of A' },
      { waiting: a, deciding: undefined, waitsOn: 'A', decidedThrough: 'gatehouse approvals approve' },
      { waiting: b, deciding: undefined, waitsOn: 'B', decidedThrough: 'gatehouse approvals approve' },
      { waiting: a, deciding: b, waitsOn: 'A', decidedThrough: 'HTTP API of B' },
      { waiting: b, deciding: a, waitsOn: 'B', decidedThrough: 'HTTP API of A' },
    ];
    for (const [round, step] of plan.entries()) {
      const client = await alice(step.waiting);
      const id = `wake-${round}`;
      const pending = call(client, 'gov__update_record', { id, value: 'v' });
      let approvalId: string | undefined;
      // Seen through the other gateway: the request is in the shared database.
      const observer = step.deciding ?? (step.waiting === a ? b : a);
      await waitFor(async () => {
        const listed = await api(observer, 'GET', '/api/approvals?status=pending');
        approvalId = (listed.body.approvals as Array<{ id: string; arguments: { id: string } }>).find((r) => r.arguments.id === id)?.id;
        return approvalId !== undefined;
      }, 10_000, `approval request ${id}`);
      // Let the waiting call reach its sleep (it read the request as pending) before deciding.
      await new Promise((resolve) => setTimeout(resolve, 100));
      const decidedAt = performance.now();
      if (step.deciding) {
        const decided = await api(step.deciding, 'POST', `/api/approvals/${approvalId!}/approve`);
        assert.equal(decided.status, 200, JSON.stringify(decided.body));
      } else {
        const decided = runCli(['approvals', 'approve', approvalId!, '--by', 'carol', '--config', temp.configPath], env);
        assert.equal(decided.status, 0, decided.stderr);
      }
      const result = await pending;
      const answerMs = performance.now() - decidedAt;
      assert.equal(text(result), `record ${id} = v`);
      // The store's own clock marks: decided (by the deciding process, just before its UPDATE)
      // and consumed (by the waiting gateway, after it woke and read the decision).
      const shown = (await api(observer, 'GET', `/api/approvals/${approvalId!}`)).body as { status: string; decidedAt: string; consumedAt: string };
      assert.equal(shown.status, 'consumed');
      const wakeMs = Date.parse(shown.consumedAt) - Date.parse(shown.decidedAt);
      rounds.push({ waitsOn: step.waitsOn, decidedThrough: step.decidedThrough, wakeMs, answerMs: Math.round(answerMs) });
    }
    console.log('approval wake-up across gateways (decidedAt → consumedAt in the store; answerMs: decision request sent → call answered, including the CLI process start):');
    console.table(rounds);
    for (const round of rounds) assert.ok(round.wakeMs < WAKE_BUDGET_MS, `woken after ${round.wakeMs} ms (${round.waitsOn}, decided through ${round.decidedThrough})`);
    assert.equal(executions(temp.dir).filter((e) => e.tool === 'update_record').length, plan.length, 'each approved call ran once');
  });

  test('an idempotency key raced across both gateways executes once', async () => {
    const [a, b] = gateways as [RunningGateway, RunningGateway];
    const [onA, onB] = await Promise.all([alice(a), alice(b)]);
    const key = { 'gatehouse/idempotencyKey': 'payment-42' };
    const args = { ms: 400 };
    // Eight calls at once, four through each gateway, each on its own downstream server process.
    const raced = await Promise.all(Array.from({ length: 8 }, (_, i) => call(i % 2 === 0 ? onA : onB, 'gov__slow_write', args, key)));
    const ran = executions(temp.dir).filter((e) => e.tool === 'slow_write');
    assert.equal(ran.length, 1, `executions: ${JSON.stringify(ran)}`);
    const answered = raced.filter((r) => !r.isError && r._meta?.['gatehouse/replay'] === undefined);
    assert.equal(answered.length, 1, 'one call executed');
    for (const r of raced.filter((r) => r !== answered[0])) {
      const code = (r._meta?.gatehouse as { code?: string } | undefined)?.code;
      assert.ok(r._meta?.['gatehouse/replay'] || code === 'GH_IDEMPOTENCY_CONFLICT', text(r));
    }
    // Afterwards, through either gateway: the stored result.
    for (const c of [onA, onB]) {
      const replay = await call(c, 'gov__slow_write', args, key);
      assert.equal(text(replay), 'wrote after 400 ms');
      assert.ok(replay._meta?.['gatehouse/replay']);
    }
    assert.equal(executions(temp.dir).filter((e) => e.tool === 'slow_write').length, 1);
    const pids = new Set(executions(temp.dir).map((e) => e.pid));
    assert.ok(pids.size >= 2, 'both gateways ran calls, each through its own downstream server');
  });

  test('gatehouse audit verify reports one valid chain holding the events of both gateways', async () => {
    // Both gateways write at once, then stop (their last events flushed) before the check.
    const [a, b] = gateways as [RunningGateway, RunningGateway];
    const [onA, onB] = await Promise.all([alice(a), alice(b)]);
    await Promise.all(Array.from({ length: 40 }, (_, i) => call(i % 2 === 0 ? onA : onB, 'gov__slow_write', { ms: 1 })));
    for (const c of clients.splice(0)) await c.close().catch(() => undefined);
    for (const gateway of gateways.splice(0)) await gateway.stop();

    const verified = runCli(['audit', 'verify', '--json', '--config', temp.configPath], env);
    assert.equal(verified.status, 0, verified.stdout + verified.stderr);
    const report = JSON.parse(verified.stdout) as { checked: number; unchained: number; problem?: unknown };
    assert.equal(report.problem, undefined);
    assert.equal(report.unchained, 0);
    // At least: 6 approved calls (requested, granted, succeeded), 10 keyed calls and these 40, one call event each.
    assert.ok(report.checked >= 6 * 3 + 10 + 40, `${report.checked} events`);
    const plain = runCli(['audit', 'verify', '--config', temp.configPath], env);
    assert.match(plain.stdout, /^audit chain OK: \d+ events/);
  });
});

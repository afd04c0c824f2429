import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { PrometheusMetrics } from '../src/telemetry/prometheus-metrics.js';
import { metricsNeedToken } from '../src/transports/metrics-endpoint.js';
import { faultServer } from './helpers/faults.js';
import { httpClient, REPO, SERVERS, startServe, tempConfig, TOKENS, type RunningGateway } from './helpers/gatehouse.js';

const GOVERNANCE = path.join(REPO, 'dist/test/fixtures/governance-server.js');
const OPERATOR_TOKEN = 'operator-token-0123456789';
const ENV = { TEST_OPERATOR_TOKEN: OPERATOR_TOKEN };

function metricsConfig(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    store: { kind: 'sqlite', path: 'state/gatehouse.db' },
    // One crash marks a server failed, and it stays so for the whole test.
    defaults: { restartBackoffMs: 600_000, restartBackoffMaxMs: 600_000, maxConsecutiveCrashes: 1 },
    servers: {
      everything: SERVERS.everything,
      gov: { command: process.execPath, args: [GOVERNANCE], tools: { read_value: { gate: 'G0' }, update_record: { gate: 'G2' } } },
      broken: { command: process.execPath, args: ['-e', 'process.exit(3)'] },
      // Its breaker opens at the first failed call and stays open for the whole test.
      faulty: faultServer('${configDir}', {}, { circuitBreaker: { consecutiveFailures: 1, halfOpenAfterMs: 600_000 } }),
    },
    profiles: {
      main: { allow: ['everything/*', 'gov/*'], approval: { mode: 'return' } },
      // Its requests expire after 300 ms; none is decided or read through the desk, so it stays pending in the store.
      hasty: { allow: ['gov/update_record'], approval: { mode: 'return', timeoutMs: 300 } },
      fragile: { allow: ['broken/*', 'faulty/*'] },
    },
    agents: { alice: { profiles: ['main', 'fragile', 'hasty'], tokenEnv: 'TEST_TOKEN_ALICE' } },
    operators: { ops: { tokenEnv: 'TEST_OPERATOR_TOKEN' } },
    ...overrides,
  };
}

interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

/** The samples of a Prometheus text exposition. */
function parseExposition(body: string): Sample[] {
  const samples: Sample[] = [];
  for (const line of body.split('\n')) {
    const match = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})?\s+(\S+)$/.exec(line);
    if (!match) continue;
    const labels: Record<string, string> = {};
    for (const [, key, value] of (match[2] ?? '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)) labels[key!] = value!;
    samples.push({ name: match[1]!, labels, value: Number(match[3]) });
  }
  return samples;
}

/** The value of the one sample with exactly these labels; undefined when there is none. */
function valueOf(samples: Sample[], name: string, labels: Record<string, string> = {}): number | undefined {
  const found = samples.filter((s) => s.name === name && JSON.stringify(Object.entries(s.labels).sort()) === JSON.stringify(Object.entries(labels).sort()));
  assert.ok(found.length <= 1, `at most one ${name} ${JSON.stringify(labels)}`);
  return found[0]?.value;
}

async function scrape(gateway: RunningGateway, token?: string): Promise<{ status: number; contentType: string | null; challenge: string | null; body: string }> {
  const response = await fetch(`${gateway.url}/metrics`, { headers: token ? { Authorization: `Bearer ${token}` } : {} });
  return { status: response.status, contentType: response.headers.get('content-type'), challenge: response.headers.get('www-authenticate'), body: await response.text() };
}

describe('/metrics after real calls through gatehouse serve', () => {
  let temp: ReturnType<typeof tempConfig>;
  let gateway: RunningGateway;
  let main: Client;

  before(async () => {
    temp = tempConfig(metricsConfig());
    gateway = await startServe(temp.configPath, ENV);
    main = await httpClient(gateway.url, 'main', TOKENS.alice);
  });
  after(async () => {
    await main?.close().catch(() => undefined);
    await gateway?.stop();
    temp?.cleanup();
  });

  test('open on loopback by default; before any call nothing is counted and nothing runs', async () => {
    const scraped = await scrape(gateway);
    assert.equal(scraped.status, 200);
    assert.match(scraped.contentType ?? '', /^text\/plain; version=0\.0\.4/);
    const samples = parseExposition(scraped.body);
    assert.equal(samples.filter((s) => s.name === 'gatehouse_tool_calls_total').length, 0);
    assert.equal(valueOf(samples, 'gatehouse_approvals_pending'), 0);
    assert.equal(valueOf(samples, 'gatehouse_downstream_processes_running'), 0);
    assert.equal(valueOf(samples, 'gatehouse_http_sessions'), 1);
    assert.equal(valueOf(samples, 'gatehouse_server_state', { server: 'everything', state: 'stopped' }), 1);
    assert.ok(valueOf(samples, 'process_cpu_user_seconds_total') !== undefined, 'the process metrics are there too');
  });

  test('calls are counted by server, tool, gate and outcome and timed; a held G2 call shows as a pending approval until decided', async () => {
    for (let i = 0; i < 3; i += 1) await main.callTool({ name: 'everything__echo', arguments: { message: `m${i}` } });
    const invalid = await main.callTool({ name: 'everything__get-sum', arguments: { a: 'one', b: 2 } });
    assert.equal(invalid.isError, true);
    // Same server, gate and outcome as echo, another tool: a counter of its own.
    await main.callTool({ name: 'everything__get-sum', arguments: { a: 1, b: 2 } });
    await main.callTool({ name: 'gov__read_value', arguments: {} });
    const held = await main.callTool({ name: 'gov__update_record', arguments: { id: 'r1', value: 'v' } });
    const approvalId = (held._meta?.gatehouse as { data?: { approvalId?: string } } | undefined)?.data?.approvalId;
    assert.ok(approvalId, 'the G2 call returned an approval id');
    await assert.rejects(main.callTool({ name: 'everything__no-such-tool', arguments: {} }));
    const hasty = await httpClient(gateway.url, 'hasty', TOKENS.alice);
    await hasty.callTool({ name: 'gov__update_record', arguments: { id: 'r2', value: 'v' } });
    await hasty.close();
    await new Promise((resolve) => setTimeout(resolve, 350));

    let samples = parseExposition((await scrape(gateway)).body);
    const calls = (labels: Record<string, string>) => valueOf(samples, 'gatehouse_tool_calls_total', labels);
    assert.equal(calls({ server: 'everything', tool: 'echo', gate: 'G0', outcome: 'ok' }), 3);
    assert.equal(calls({ server: 'everything', tool: 'get-sum', gate: 'G0', outcome: 'error' }), 1);
    assert.equal(calls({ server: 'everything', tool: 'get-sum', gate: 'G0', outcome: 'ok' }), 1);
    assert.equal(calls({ server: 'gov', tool: 'read_value', gate: 'G0', outcome: 'ok' }), 1);
    assert.equal(calls({ server: 'gov', tool: 'update_record', gate: 'G2', outcome: 'held' }), 2, 'one per profile');
    assert.equal(calls({ server: '', tool: '', gate: '', outcome: 'error' }), 1, 'an unknown tool name does not become a label value');
    const latency = (suffix: string, labels: Record<string, string>) => valueOf(samples, `gatehouse_tool_call_duration_seconds_${suffix}`, labels);
    assert.equal(latency('count', { server: 'everything', gate: 'G0', outcome: 'ok' }), 4);
    const sum = latency('sum', { server: 'everything', gate: 'G0', outcome: 'ok' })!;
    assert.ok(sum > 0 && sum < 30, `latency sum ${sum} s`);
    assert.equal(latency('bucket', { server: 'everything', gate: 'G0', outcome: 'ok', le: '+Inf' }), 4);
    assert.equal(valueOf(samples, 'gatehouse_approvals_pending'), 1, 'the request past its expiry can no longer be decided: not pending');
    assert.equal(valueOf(samples, 'gatehouse_downstream_processes_running'), 2, 'everything and gov');
    assert.equal(valueOf(samples, 'gatehouse_server_state', { server: 'gov', state: 'running' }), 1);
    assert.equal(valueOf(samples, 'gatehouse_server_state', { server: 'gov', state: 'stopped' }), 0);
    assert.equal(valueOf(samples, 'gatehouse_circuit_state', { server: 'everything' }), 0);

    const decided = await fetch(`${gateway.url}/api/approvals/${approvalId}/reject`, {
      method: 'POST',
      headers: { Authorization: `Bearer ${OPERATOR_TOKEN}`, 'Content-Type': 'application/json' },
      body: JSON.stringify({ reason: 'not today' }),
    });
    assert.equal(decided.status, 200);
    samples = parseExposition((await scrape(gateway)).body);
    assert.equal(valueOf(samples, 'gatehouse_approvals_pending'), 0, 'read from the store at each scrape');
  });

  test('a server that cannot start is shown failed; a server whose calls fail has its breaker open', async () => {
    const fragile = await httpClient(gateway.url, 'fragile', TOKENS.alice);
    try {
      // The listing starts (and loses) the broken server; a call that crashes faulty opens its breaker.
      const tools = (await fragile.listTools()).tools.map((tool) => tool.name);
      assert.ok(tools.includes('faulty__lookup'), tools.join(','));
      const crashed = await fragile.callTool({ name: 'faulty__lookup', arguments: { id: 'm1', fault: 'crash' } });
      assert.match(JSON.stringify(crashed), /GH_DOWNSTREAM_UNAVAILABLE/);
    } finally {
      await fragile.close();
    }
    const samples = parseExposition((await scrape(gateway)).body);
    assert.equal(valueOf(samples, 'gatehouse_server_state', { server: 'broken', state: 'failed' }), 1);
    assert.equal(valueOf(samples, 'gatehouse_server_state', { server: 'broken', state: 'crashed' }), 0);
    // The breaker's own state, not the restart backoff: broken never reached it, faulty tripped it.
    assert.equal(valueOf(samples, 'gatehouse_circuit_state', { server: 'broken' }), 0);
    assert.equal(valueOf(samples, 'gatehouse_circuit_state', { server: 'faulty' }), 2);
    assert.equal(valueOf(samples, 'gatehouse_circuit_state', { server: 'gov' }), 0);
  });
});

describe('/metrics access', () => {
  test('the state gauges: only stdio processes count as running; a half-open circuit is 1', async () => {
    const metrics = new PrometheusMetrics();
    metrics.watch({
      pendingApprovals: () => 0,
      sessions: () => 0,
      servers: () => [
        { name: 'local', transport: 'stdio', state: 'running', circuit: 'half_open' },
        { name: 'remote', transport: 'http', state: 'running', circuit: 'open' },
      ],
    });
    const samples = parseExposition((await metrics.scrape()).body);
    assert.equal(valueOf(samples, 'gatehouse_downstream_processes_running'), 1, 'an HTTP server is no process of ours');
    assert.equal(valueOf(samples, 'gatehouse_circuit_state', { server: 'local' }), 1);
    assert.equal(valueOf(samples, 'gatehouse_circuit_state', { server: 'remote' }), 2);
    assert.equal(valueOf(samples, 'gatehouse_server_state', { server: 'remote', state: 'running' }), 1);
  });

  test('auth "auto" is open on a loopback bind and asks for an operator token elsewhere', () => {
    assert.equal(metricsNeedToken('auto', '127.0.0.1'), false);
    assert.equal(metricsNeedToken('auto', '::1'), false);
    assert.equal(metricsNeedToken('auto', 'localhost'), false);
    assert.equal(metricsNeedToken('auto', '0.0.0.0'), true);
    assert.equal(metricsNeedToken('auto', '10.1.2.3'), true);
    assert.equal(metricsNeedToken('operator', '127.0.0.1'), true);
    assert.equal(metricsNeedToken('none', '0.0.0.0'), false);
  });

  test('auth "operator": no token 401, an agent token 403, an operator token 200; metrics.enabled false: no route', async () => {
    const temp = tempConfig(metricsConfig({ metrics: { auth: 'operator' } }));
    const off = tempConfig(metricsConfig({ metrics: { enabled: false } }));
    const guarded = await startServe(temp.configPath, ENV);
    const disabled = await startServe(off.configPath, ENV);
    try {
      const anonymous = await scrape(guarded);
      assert.equal(anonymous.status, 401);
      assert.equal(anonymous.challenge, 'Bearer realm="gatehouse-operators"', 'a 401 says how to authenticate');
      assert.doesNotMatch(anonymous.body, /gatehouse_tool_calls_total/);
      const agent = await scrape(guarded, TOKENS.alice);
      assert.deepEqual([agent.status, agent.challenge], [403, null], 'an agent is known: forbidden, not asked to authenticate');
      assert.equal((await scrape(guarded, 'not-a-token')).status, 401);
      const operator = await scrape(guarded, OPERATOR_TOKEN);
      assert.equal(operator.status, 200);
      assert.match(operator.body, /# TYPE gatehouse_tool_calls_total counter/);
      assert.equal((await scrape(disabled)).status, 404);
    } finally {
      await Promise.all([guarded.stop(), disabled.stop()]);
      temp.cleanup();
      off.cleanup();
    }
  });
});

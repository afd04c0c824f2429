import { after, before, beforeEach, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { InMemoryTransport } from '@modelcontextprotocol/sdk/inMemory.js';
import { diag, SpanKind, SpanStatusCode } from '@opentelemetry/api';
import { InMemorySpanExporter, SimpleSpanProcessor, type ReadableSpan } from '@opentelemetry/sdk-trace-base';
import { pino } from 'pino';
import { openGateway } from '../src/app.js';
import { loadConfig, validateConfig } from '../src/config/load.js';
import { isGatehouseError } from '../src/core/errors.js';
import type { Gateway } from '../src/gateway/gateway.js';
import { startOtelTracing } from '../src/telemetry/otel-setup.js';
import { createMcpSession } from '../src/transports/mcp-session.js';
import { faultServer } from './helpers/faults.js';
import { REPO, SERVERS, TEST_ENV, tempConfig, text } from './helpers/gatehouse.js';

const META_ECHO = path.join(REPO, 'dist/test/fixtures/meta-echo-server.js');

/** The agent's own trace: its span is the parent the gateway must join. */
const AGENT_TRACE = '0af7651916cd43dd8448eb211c80319c';
const AGENT_SPAN = 'b7ad6b7169203331';
const TRACEPARENT = `00-${AGENT_TRACE}-${AGENT_SPAN}-01`;

function config(): Record<string, unknown> {
  const fixture = { command: process.execPath, args: [META_ECHO] };
  return {
    store: { kind: 'sqlite', path: 'state/gatehouse.db' },
    servers: {
      meta: { ...fixture, tools: { '*': { gate: 'G0' } } },
      gated: { ...fixture, tools: { '*': { gate: 'G3' } } },
      everything: SERVERS.everything,
      faulty: faultServer('${configDir}'),
    },
    profiles: {
      eager: { allow: ['meta/*', 'gated/*', 'faulty/lookup'] },
      lazy: { mode: 'lazy', allow: ['meta/*'] },
    },
    agents: { alice: { profiles: ['eager', 'lazy'], tokenEnv: 'TEST_TOKEN_ALICE' } },
  };
}

/** A gateway in this process (so that its spans can be read), with one MCP client per profile. */
async function startGateway(tracing: boolean): Promise<{ gateway: Gateway; exporter: InMemorySpanExporter; client: (profile: string) => Promise<Client>; stop: () => Promise<void> }> {
  const temp = tempConfig(config());
  const loaded = loadConfig(temp.configPath, TEST_ENV);
  const log = pino({ level: 'silent' });
  const exporter = new InMemorySpanExporter();
  const otel = tracing ? startOtelTracing({ ...loaded.tracing, enabled: true }, log, [new SimpleSpanProcessor(exporter)]) : undefined;
  const { gateway, close } = await openGateway(loaded, TEST_ENV, log, otel ? { tracing: otel.tracing } : {});
  const clients: Client[] = [];
  return {
    gateway,
    exporter,
    client: async (profile) => {
      const [clientSide, serverSide] = InMemoryTransport.createLinkedPair();
      await createMcpSession(gateway, { name: 'alice', profiles: ['eager', 'lazy'] }, gateway.profiles.get(profile)!, `session-${profile}`).connect(serverSide);
      const client = new Client({ name: 'tracing-test', version: '1.0.0' });
      await client.connect(clientSide);
      clients.push(client);
      return client;
    },
    stop: async () => {
      await Promise.all(clients.map((client) => client.close()));
      await close();
      await otel?.shutdown();
      temp.cleanup();
    },
  };
}

const byName = (spans: ReadableSpan[], name: string) => {
  const found = spans.filter((span) => span.name === name);
  assert.equal(found.length, 1, `one span "${name}" in ${spans.map((span) => span.name).join(', ')}`);
  return found[0]!;
};
const parentOf = (span: ReadableSpan) => span.parentSpanContext?.spanId;
const idOf = (span: ReadableSpan) => span.spanContext().spanId;
const echoedMeta = (result: unknown) => JSON.parse(text(result)) as Record<string, unknown>;

describe('tracing: a span per call, per stage and for the downstream request', () => {
  let gw: Awaited<ReturnType<typeof startGateway>>;
  let eager: Client;

  before(async () => {
    gw = await startGateway(true);
    eager = await gw.client('eager');
  });
  after(() => gw.stop());
  beforeEach(() => gw.exporter.reset());

  test("a call joins the agent's trace; its stages, forward and the downstream request nest under it; the server gets the request's context", async () => {
    const result = await eager.callTool({ name: 'meta__echo_meta', arguments: {}, _meta: { traceparent: TRACEPARENT, tracestate: 'agent=1', 'example.com/key': 'kept' } });
    const spans = gw.exporter.getFinishedSpans();
    const call = byName(spans, 'tools/call meta__echo_meta');
    assert.equal(call.kind, SpanKind.SERVER);
    assert.equal(call.spanContext().traceId, AGENT_TRACE, "the agent's trace");
    assert.equal(parentOf(call), AGENT_SPAN, "a child of the agent's span");
    assert.deepEqual(
      {
        server: call.attributes['gatehouse.server'],
        tool: call.attributes['gatehouse.tool'],
        gate: call.attributes['gatehouse.gate'],
        outcome: call.attributes['gatehouse.outcome'],
        agent: call.attributes['gatehouse.agent'],
        profile: call.attributes['gatehouse.profile'],
        method: call.attributes['mcp.method.name'],
        toolName: call.attributes['gen_ai.tool.name'],
      },
      { server: 'meta', tool: 'echo_meta', gate: 'G0', outcome: 'ok', agent: 'alice', profile: 'eager', method: 'tools/call', toolName: 'meta__echo_meta' },
    );
    assert.equal(call.attributes['mcp.session.id'], 'session-eager');
    assert.equal(call.status.code, SpanStatusCode.UNSET);
    for (const stage of ['authorize', 'admit', 'resolve', 'validate', 'govern']) {
      assert.equal(parentOf(byName(spans, `gatehouse.${stage}`)), idOf(call), `${stage} is a child of the call`);
    }
    const forward = byName(spans, 'gatehouse.forward');
    assert.equal(parentOf(forward), idOf(byName(spans, 'gatehouse.govern')), 'forward runs inside govern');
    const downstream = byName(spans, 'tools/call echo_meta');
    assert.equal(downstream.kind, SpanKind.CLIENT);
    assert.equal(parentOf(downstream), idOf(forward));
    assert.equal(downstream.attributes['gatehouse.server'], 'meta');
    assert.ok(spans.every((span) => span.spanContext().traceId === AGENT_TRACE), 'one trace');
    // The stages follow each other. (A span's start time comes from Date.now(), whole milliseconds.)
    const order = ['authorize', 'admit', 'resolve', 'validate', 'govern'].map((stage) => byName(spans, `gatehouse.${stage}`));
    for (let i = 1; i < order.length; i += 1) {
      const gapMs = hrMs(order[i]!.startTime) - hrMs(order[i - 1]!.endTime);
      assert.ok(gapMs > -1, `a stage starts when the one before it ended (gap ${gapMs} ms)`);
    }

    const meta = echoedMeta(result);
    assert.equal(meta.traceparent, `00-${AGENT_TRACE}-${idOf(downstream)}-01`, "the server's parent is the downstream request span");
    assert.equal(meta.tracestate, 'agent=1', 'the tracestate travels on');
    assert.equal(meta['example.com/key'], 'kept', 'other _meta keys travel on');
  });

  test('a call without a traceparent starts a trace of its own, and the server joins it', async () => {
    const result = await eager.callTool({ name: 'meta__echo_meta', arguments: {} });
    const spans = gw.exporter.getFinishedSpans();
    const call = byName(spans, 'tools/call meta__echo_meta');
    assert.equal(call.parentSpanContext, undefined, 'a root span');
    const downstream = byName(spans, 'tools/call echo_meta');
    assert.equal(echoedMeta(result).traceparent, `00-${call.spanContext().traceId}-${idOf(downstream)}-01`);
  });

  test('a tool error marks the call and the downstream span as failed (error.type tool_error)', async () => {
    const result = await eager.callTool({ name: 'meta__fail', arguments: {}, _meta: { traceparent: TRACEPARENT } });
    assert.equal(result.isError, true);
    const spans = gw.exporter.getFinishedSpans();
    const call = byName(spans, 'tools/call meta__fail');
    assert.equal(call.attributes['gatehouse.outcome'], 'tool_error');
    assert.equal(call.attributes['error.type'], 'tool_error');
    assert.equal(call.status.code, SpanStatusCode.ERROR);
    assert.equal(byName(spans, 'tools/call fail').status.code, SpanStatusCode.ERROR);
    assert.equal(byName(spans, 'gatehouse.govern').status.code, SpanStatusCode.UNSET, 'the tool failed, not a stage of the gateway');
  });

  test('a call refused at resolve has no later stages; the resolve span and the call carry the error', async () => {
    await assert.rejects(eager.callTool({ name: 'meta__no_such_tool', arguments: {} }), /not available in profile "eager"/);
    const spans = gw.exporter.getFinishedSpans();
    const call = byName(spans, 'tools/call meta__no_such_tool');
    assert.equal(call.attributes['gatehouse.outcome'], 'error');
    assert.equal(call.attributes['gatehouse.stage'], 'resolve');
    assert.equal(call.attributes['error.type'], 'GH_TOOL_NOT_ALLOWED');
    assert.equal(call.attributes['gatehouse.server'], undefined, 'no server was resolved');
    assert.equal(call.status.code, SpanStatusCode.ERROR);
    assert.equal(byName(spans, 'gatehouse.resolve').status.code, SpanStatusCode.ERROR);
    assert.deepEqual(spans.map((span) => span.name).sort(), ['gatehouse.admit', 'gatehouse.authorize', 'gatehouse.resolve', 'tools/call meta__no_such_tool']);
  });

  test('a request the server refuses fails the forward and downstream spans and the stage it ran in', async () => {
    // The server answers with a result that is not an object.
    await eager.callTool({ name: 'faulty__lookup', arguments: { id: 'x', fault: 'invalid' } }).catch(() => undefined);
    const spans = gw.exporter.getFinishedSpans();
    const call = byName(spans, 'tools/call faulty__lookup');
    assert.equal(call.attributes['gatehouse.outcome'], 'error');
    for (const name of ['gatehouse.forward', 'tools/call lookup', 'gatehouse.govern']) assert.equal(byName(spans, name).status.code, SpanStatusCode.ERROR, name);
  });

  test('a refusal by governance (a forged confirm token) is a failed call: outcome denied, error.type its code', async () => {
    await eager.callTool({ name: 'gated__echo_meta', arguments: { confirm: 'SEND', confirm_token: 'ghc1.e30.Zm9yZ2Vk' } });
    const call = byName(gw.exporter.getFinishedSpans(), 'tools/call gated__echo_meta');
    assert.equal(call.attributes['gatehouse.outcome'], 'denied');
    assert.equal(call.attributes['error.type'], call.attributes['gatehouse.error.code']);
    assert.equal(call.status.code, SpanStatusCode.ERROR);
  });

  test('a status message longer than 300 characters is cut, with an ellipsis', async () => {
    const name = `meta__${'x'.repeat(400)}`;
    await assert.rejects(eager.callTool({ name, arguments: {} }));
    const { message } = byName(gw.exporter.getFinishedSpans(), `tools/call ${name}`).status;
    assert.equal(message?.length, 300);
    assert.ok(message?.startsWith('GH_TOOL_NOT_ALLOWED: ') && message.endsWith('…'), message);
  });

  test('a G3 preflight is held: outcome held, gate G3, not an error, nothing forwarded', async () => {
    const result = await eager.callTool({ name: 'gated__echo_meta', arguments: {} });
    assert.equal((result._meta?.gatehouse as { code?: string } | undefined)?.code, 'GH_CONFIRM_REQUIRED');
    const spans = gw.exporter.getFinishedSpans();
    const call = byName(spans, 'tools/call gated__echo_meta');
    assert.equal(call.attributes['gatehouse.outcome'], 'held');
    assert.equal(call.attributes['gatehouse.gate'], 'G3');
    assert.equal(call.attributes['gatehouse.error.code'], 'GH_CONFIRM_REQUIRED');
    assert.equal(call.status.code, SpanStatusCode.UNSET);
    assert.ok(!spans.some((span) => span.name === 'gatehouse.forward'), 'the tool did not run');
  });

  test("an agent's trace that is not sampled is not recorded, and the server is told so with the same trace id", async () => {
    const result = await eager.callTool({ name: 'meta__echo_meta', arguments: {}, _meta: { traceparent: `00-${AGENT_TRACE}-${AGENT_SPAN}-00` } });
    assert.deepEqual(gw.exporter.getFinishedSpans(), []);
    const [version, trace, span, flags] = String(echoedMeta(result).traceparent).split('-');
    assert.deepEqual([version, trace, flags], ['00', AGENT_TRACE, '00']);
    assert.notEqual(span, AGENT_SPAN);
  });

  test('a lazy call_tool is traced like a direct call, with via call_tool', async () => {
    const lazy = await gw.client('lazy');
    await lazy.callTool({ name: 'call_tool', arguments: { name: 'meta__echo_meta', arguments: {} }, _meta: { traceparent: TRACEPARENT } });
    const call = byName(gw.exporter.getFinishedSpans(), 'tools/call meta__echo_meta');
    assert.equal(call.attributes['gatehouse.via'], 'call_tool');
    assert.equal(parentOf(call), AGENT_SPAN);
  });
});

describe('tracing off (the default)', () => {
  test("no tracer: the client's trace context reaches the server unchanged", async () => {
    const gw = await startGateway(false);
    try {
      assert.equal(gw.gateway.config.tracing.enabled, false);
      const client = await gw.client('eager');
      const result = await client.callTool({ name: 'meta__echo_meta', arguments: {}, _meta: { traceparent: TRACEPARENT, tracestate: 'agent=1' } });
      assert.deepEqual(echoedMeta(result), { traceparent: TRACEPARENT, tracestate: 'agent=1' });
    } finally {
      await gw.stop();
    }
  });
});

describe('tracing with the OTLP exporter', () => {
  test('the start line names the endpoint without its credentials; an export failure is logged once a minute at most, readable', async () => {
    const lines: Array<Record<string, unknown>> = [];
    // A bare pino, without the redaction of src/log.ts: what is not written cannot leak.
    const log = pino({ level: 'info' }, { write: (line: string) => void lines.push(JSON.parse(line) as Record<string, unknown>) });
    const config = validateConfig({ servers: {}, profiles: {}, tracing: { enabled: true, endpoint: 'http://user:otlp-pw@127.0.0.1:9/v1/traces' } }, '/tmp/gatehouse.yaml', {}).tracing;
    const otel = startOtelTracing(config, log);
    try {
      assert.equal(lines[0]?.endpoint, 'http://127.0.0.1:9/v1/traces');
      // What the SDK reports through its diagnostic logger when an export fails, three times in a row.
      for (let i = 0; i < 3; i++) diag.error('{"message":"connect ECONNREFUSED 127.0.0.1:9"}');
      const failures = lines.filter((line) => String(line.msg).startsWith('tracing: spans'));
      assert.deepEqual(failures.map((line) => [line.msg, line.suppressedSinceLast]), [['tracing: spans could not be exported: connect ECONNREFUSED 127.0.0.1:9', 0]]);
    } finally {
      await otel.shutdown();
    }
  });
});

describe('tracing and metrics configuration', () => {
  const base = { servers: { meta: { command: 'node' } }, profiles: { p: { allow: ['meta/*'] } } };

  test('by default tracing is off and /metrics is on, open on loopback only', () => {
    const parsed = validateConfig(base, '/tmp/gatehouse.yaml', {});
    assert.deepEqual(parsed.tracing, { enabled: false, endpoint: 'http://localhost:4318/v1/traces', headers: {}, serviceName: 'gatehouse', sampleRatio: 1, exportTimeoutMs: 10_000 });
    assert.deepEqual(parsed.metrics, { enabled: true, auth: 'auto' });
  });

  test('bad values are reported with the path of their key', () => {
    try {
      validateConfig({ ...base, tracing: { enabled: true, endpoint: 'not a url', sampleRatio: 2 }, metrics: { auth: 'open' } }, '/tmp/gatehouse.yaml', {});
      assert.fail('expected GH_CONFIG_INVALID');
    } catch (error) {
      assert.ok(isGatehouseError(error, 'GH_CONFIG_INVALID'), String(error));
      const problems = (error.data.problems as string[]).join('\n');
      for (const key of ['tracing.endpoint', 'tracing.sampleRatio', 'metrics.auth']) assert.match(problems, new RegExp(`^${key.replace('.', '\\.')}`, 'm'), problems);
    }
  });
});

function hrMs([seconds, nanos]: [number, number]): number {
  return seconds * 1000 + nanos / 1e6;
}

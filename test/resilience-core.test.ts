import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { GatehouseError, isGatehouseError } from '../src/core/errors.js';
import { mayRetry, retryDelayMs } from '../src/core/retry-rules.js';
import { TokenBucket } from '../src/core/token-bucket.js';
import { validateConfig } from '../src/config/load.js';
import { Bulkhead } from '../src/resilience/bulkhead.js';
import { ServerCircuit } from '../src/resilience/circuit.js';
import { RateLimiter } from '../src/resilience/rate-limiter.js';
import { Resilience } from '../src/resilience/resilience.js';
import { ToolSettings } from '../src/resilience/tool-settings.js';
import { JsonLineSplitter } from '../src/downstream/json-lines.js';

const quietHooks = { opened: () => undefined, halfOpened: () => undefined, closed: () => undefined };
const down = (incident?: string) => new GatehouseError('GH_DOWNSTREAM_UNAVAILABLE', 'server went away', incident ? { incident } : {});

describe('resilience rules (pure)', () => {
  test('retries: G0 always; others only when idempotent; G2/G3 also need an idempotency key', () => {
    assert.equal(mayRetry({ gate: 'G0', idempotent: false, hasIdempotencyKey: false }), true);
    assert.equal(mayRetry({ gate: 'G1', idempotent: false, hasIdempotencyKey: true }), false);
    assert.equal(mayRetry({ gate: 'G1', idempotent: true, hasIdempotencyKey: false }), true);
    assert.equal(mayRetry({ gate: 'G2', idempotent: true, hasIdempotencyKey: false }), false);
    assert.equal(mayRetry({ gate: 'G3', idempotent: true, hasIdempotencyKey: true }), true);
    assert.equal(mayRetry({ gate: 'G3', idempotent: false, hasIdempotencyKey: true }), false);
  });

  test('backoff: full jitter under an exponential ceiling capped at the maximum', () => {
    assert.equal(retryDelayMs(1, 100, 2000, () => 0.999999), 100);
    assert.equal(retryDelayMs(2, 100, 2000, () => 0.5), 100);
    assert.equal(retryDelayMs(6, 100, 2000, () => 0.999999), 2000);
    assert.equal(retryDelayMs(3, 100, 2000, () => 0), 0);
  });

  test('token bucket: a burst, then one token per 1/rate seconds, with the wait until the next', () => {
    const bucket = new TokenBucket(2, 3, 0);
    for (let i = 0; i < 3; i += 1) assert.deepEqual(bucket.take(0), { ok: true });
    assert.deepEqual(bucket.take(0), { ok: false, retryAfterMs: 500 });
    assert.deepEqual(bucket.take(250), { ok: false, retryAfterMs: 250 });
    assert.deepEqual(bucket.take(500), { ok: true });
    assert.equal(bucket.isFull(10_000), true);
    for (let i = 0; i < 3; i += 1) assert.deepEqual(bucket.take(10_000), { ok: true });
    assert.equal(bucket.take(10_000).ok, false, 'a long idle time refills the burst, and no more');
  });

  test('token bucket: waiting exactly retryAfterMs is enough, also when the wait is not a whole millisecond', () => {
    const bucket = new TokenBucket(3, 1, 0);
    assert.deepEqual(bucket.take(0), { ok: true });
    const refused = bucket.take(0);
    assert.equal(refused.ok, false);
    const wait = refused.ok ? 0 : refused.retryAfterMs;
    assert.ok(wait >= 1000 / 3 && wait < 1000 / 3 + 1, `${wait} ms`);
    assert.deepEqual(bucket.take(wait), { ok: true });
  });

  test('token bucket: a clock that steps back neither refills nor drains it', () => {
    const bucket = new TokenBucket(2, 3, 10_000);
    for (let i = 0; i < 3; i += 1) assert.deepEqual(bucket.take(10_000), { ok: true });
    assert.deepEqual(bucket.take(9_000), { ok: false, retryAfterMs: 500 }, 'the same wait as before the step back');
    assert.deepEqual(bucket.take(9_500), { ok: true }, 'time counts on from the earlier reading');
  });

  test('rate limiter: agent and profile buckets, GH_RATE_LIMITED naming the limit and the wait', () => {
    const limiter = new RateLimiter({ agents: { a: { rateLimit: { callsPerSecond: 10, burst: 1 } } }, profiles: { p: { rateLimit: { callsPerSecond: 1 } } } });
    limiter.admit('a', 'q', 0);
    assert.throws(() => limiter.admit('a', 'q', 50), (e: unknown) => isGatehouseError(e, 'GH_RATE_LIMITED') && e.data.retryAfterMs === 50 && e.data.limit === 'agents.a.rateLimit');
    limiter.admit('b', 'p', 0);
    limiter.admit('c', 'p', 0); // per agent within a profile
    assert.throws(() => limiter.admit('b', 'p', 10), (e: unknown) => isGatehouseError(e, 'GH_RATE_LIMITED') && e.data.limit === 'profiles.p.rateLimit');
  });

  test('tool settings: exact name beats the longest glob, per setting', () => {
    const settings = new ToolSettings({
      s: { tools: { '*': { idempotent: true }, 'get_*': { callTimeoutMs: 500 }, get_slow: { callTimeoutMs: 9000, gate: 'G0' }, write: { idempotent: false } } } as never,
    });
    assert.deepEqual(settings.of('s', 'get_slow'), { idempotent: true, callTimeoutMs: 9000 });
    assert.deepEqual(settings.of('s', 'get_x'), { idempotent: true, callTimeoutMs: 500 });
    assert.deepEqual(settings.of('s', 'write'), { idempotent: false, callTimeoutMs: undefined });
    assert.deepEqual(settings.of('other', 'x'), { idempotent: false, callTimeoutMs: undefined });
  });

  test('bulkhead: slots, then a queue served in order, then GH_SERVER_BUSY; a cancelled waiter leaves the queue', async () => {
    const bulkhead = new Bulkhead('s', 1, 1);
    const first = await bulkhead.acquire(undefined);
    const order: string[] = [];
    const queued = bulkhead.acquire(undefined).then((release) => {
      order.push('queued ran');
      release();
    });
    await assert.rejects(bulkhead.acquire(undefined), (e: unknown) => isGatehouseError(e, 'GH_SERVER_BUSY'));
    first();
    await queued;
    assert.deepEqual(order, ['queued ran']);
    const holder = await bulkhead.acquire(undefined);
    const controller = new AbortController();
    const cancelled = bulkhead.acquire(controller.signal);
    controller.abort();
    await assert.rejects(cancelled, (e: unknown) => isGatehouseError(e, 'GH_CANCELLED'));
    assert.equal(bulkhead.queued, 0);
    holder();
    assert.equal(bulkhead.inFlight, 0);
  });

  test('circuit: opens after N failures (one per lost connection), fails fast, probes once after the pause, closes', async () => {
    const events: string[] = [];
    const circuit = new ServerCircuit(
      's',
      { enabled: true, consecutiveFailures: 2, samplingWindowMs: 1000, minimumCallsPerSecond: 1, halfOpenAfterMs: 100 },
      { opened: () => events.push('opened'), halfOpened: () => events.push('half_opened'), closed: () => events.push('closed') },
    );
    const fail = (error: GatehouseError) => circuit.run(() => Promise.reject(error));
    // Three calls killed by one lost connection count once.
    for (let i = 0; i < 3; i += 1) await assert.rejects(fail(down('s#1')));
    assert.equal(circuit.status().state, 'closed');
    // A tool's own protocol error does not count.
    await assert.rejects(fail(new GatehouseError('GH_DOWNSTREAM_ERROR', 'bad params')));
    await assert.rejects(fail(down()));
    assert.equal(circuit.status().state, 'open');
    let ran = false;
    await assert.rejects(
      circuit.run(async () => (ran = true)),
      (e: unknown) => isGatehouseError(e, 'GH_CIRCUIT_OPEN') && /server "s" is unavailable.*tried again at/.test(e.message),
    );
    assert.equal(ran, false);
    await new Promise((resolve) => setTimeout(resolve, 120));
    let release!: () => void;
    const probe = circuit.run(() => new Promise<string>((resolve) => (release = () => resolve('ok'))));
    await assert.rejects(circuit.run(async () => 'second'), (e: unknown) => isGatehouseError(e, 'GH_CIRCUIT_OPEN') && e.data.probing === true);
    release();
    assert.equal(await probe, 'ok');
    assert.equal(circuit.status().state, 'closed');
    assert.deepEqual(events, ['opened', 'half_opened', 'closed']);
  });

  test('circuit: the stragglers of the last 8 lost connections count no more; one of an older connection counts again', async () => {
    const circuit = new ServerCircuit(
      's',
      { enabled: true, consecutiveFailures: 10, samplingWindowMs: 1000, minimumCallsPerSecond: 1, halfOpenAfterMs: 60_000 },
      { opened: () => undefined, halfOpened: () => undefined, closed: () => undefined },
    );
    const fail = (incident: string) => assert.rejects(circuit.run(() => Promise.reject(down(incident))));
    // Nine lost connections: nine failures in a row, one short of opening.
    for (let i = 1; i <= 9; i += 1) await fail(`s#${i}`);
    assert.equal(circuit.status().state, 'closed');
    // Late failures of the last eight connections (s#2 … s#9) are already counted.
    await fail('s#9');
    await fail('s#2');
    assert.equal(circuit.status().state, 'closed');
    // s#1 is past the memory of eight: its straggler counts as a new failure, the tenth.
    await fail('s#1');
    assert.equal(circuit.status().state, 'open');
  });

  test('bulkhead: a slot released twice is freed once, and a call cancelled before it waits takes no place in the queue', async () => {
    const bulkhead = new Bulkhead('s', 1, 1);
    const first = await bulkhead.acquire(undefined);
    const waiting = bulkhead.acquire(undefined);
    first();
    const second = await waiting;
    first(); // late and repeated: the slot it held now belongs to the second call
    assert.equal(bulkhead.inFlight, 1);
    const refused = bulkhead.acquire(AbortSignal.abort());
    assert.equal(bulkhead.queued, 0, 'an already-cancelled call is not queued');
    await assert.rejects(refused, (e: unknown) => isGatehouseError(e, 'GH_CANCELLED'));
    second();
    assert.equal(bulkhead.inFlight, 0);
  });

  test('circuit: timeouts, invalid answers and unreachable servers count against the server; the supervisor refusal, tool errors and cancellations do not', async () => {
    const stateAfterOneFailure = async (error: Error) => {
      const circuit = new ServerCircuit('s', { enabled: true, consecutiveFailures: 1, samplingWindowMs: 1000, minimumCallsPerSecond: 1, halfOpenAfterMs: 60_000 }, quietHooks);
      await assert.rejects(circuit.run(() => Promise.reject(error)));
      return circuit.status().state;
    };
    for (const code of ['GH_DOWNSTREAM_UNAVAILABLE', 'GH_DOWNSTREAM_TIMEOUT', 'GH_DOWNSTREAM_INVALID'] as const) {
      assert.equal(await stateAfterOneFailure(new GatehouseError(code, 'x')), 'open', code);
    }
    for (const code of ['GH_SERVER_FAILED', 'GH_DOWNSTREAM_ERROR', 'GH_CANCELLED', 'GH_RESULT_TOO_LARGE'] as const) {
      assert.equal(await stateAfterOneFailure(new GatehouseError(code, 'x')), 'closed', code);
    }
    assert.equal(await stateAfterOneFailure(new Error('a bug, not the server')), 'closed');
  });

  test('circuit: a disabled breaker never opens; every call runs', async () => {
    const circuit = new ServerCircuit('s', { enabled: false, consecutiveFailures: 1, samplingWindowMs: 1000, minimumCallsPerSecond: 1, halfOpenAfterMs: 60_000 }, quietHooks);
    for (let i = 0; i < 3; i += 1) await assert.rejects(circuit.run(() => Promise.reject(down())), (e: unknown) => isGatehouseError(e, 'GH_DOWNSTREAM_UNAVAILABLE'));
    assert.equal(circuit.status().state, 'closed');
    assert.equal(await circuit.run(async () => 'ran'), 'ran');
  });

  test('circuit: an open circuit names when it will be tried again (halfOpenAfterMs from the failure) and the failure that opened it', async () => {
    const opened: Array<{ retryAt: string; rule: string; lastFailure: { code: string } | null }> = [];
    const circuit = new ServerCircuit('s', { enabled: true, consecutiveFailures: 1, samplingWindowMs: 1000, minimumCallsPerSecond: 1, halfOpenAfterMs: 60_000 }, { ...quietHooks, opened: (_server, info) => void opened.push(info) });
    const failedAt = Date.now();
    await assert.rejects(circuit.run(() => Promise.reject(new GatehouseError('GH_DOWNSTREAM_TIMEOUT', 'no answer within 100 ms'))));
    const status = circuit.status();
    assert.ok(status.state === 'open');
    assert.ok(Date.parse(status.retryAt) >= failedAt + 60_000, `retry at ${status.retryAt}, failed at ${new Date(failedAt).toISOString()}`);
    assert.equal(status.lastFailure, 'GH_DOWNSTREAM_TIMEOUT: no answer within 100 ms');
    assert.deepEqual(opened.map((info) => [info.retryAt, info.rule, info.lastFailure?.code]), [[status.retryAt, '1 failed calls in a row', 'GH_DOWNSTREAM_TIMEOUT']]);
    await assert.rejects(circuit.run(async () => 'not run'), (e: unknown) => isGatehouseError(e, 'GH_CIRCUIT_OPEN') && e.data.retryAt === status.retryAt && Number(e.data.retryAfterMs) > 50_000);
  });

  test('rate limiter: without a burst, the burst is the rate rounded up, and at least 1', () => {
    const limiter = new RateLimiter({ agents: { fast: { rateLimit: { callsPerSecond: 2.5 } }, slow: { rateLimit: { callsPerSecond: 0.5 } } }, profiles: {} });
    for (let i = 0; i < 3; i += 1) limiter.admit('fast', 'p', 0);
    assert.throws(() => limiter.admit('fast', 'p', 0), (e: unknown) => isGatehouseError(e, 'GH_RATE_LIMITED') && e.data.burst === 3);
    limiter.admit('slow', 'p', 0);
    assert.throws(() => limiter.admit('slow', 'p', 0), (e: unknown) => isGatehouseError(e, 'GH_RATE_LIMITED') && e.data.burst === 1 && e.data.retryAfterMs === 2000);
  });

  test('tool settings: of several globs that set a value, the longest wins whatever their order', () => {
    const settings = new ToolSettings({ s: { tools: { 'get_*': { callTimeoutMs: 200 }, '*': { callTimeoutMs: 100 }, 'get_user_*': { callTimeoutMs: 300 } } } as never });
    assert.equal(settings.of('s', 'get_user_name').callTimeoutMs, 300);
    assert.equal(settings.of('s', 'get_item').callTimeoutMs, 200);
    assert.equal(settings.of('s', 'put_item').callTimeoutMs, 100);
  });

  test("config: a server's own breaker and retry keys beat defaults, key by key", async () => {
    const config = validateConfig(
      {
        defaults: { circuitBreaker: { consecutiveFailures: 7 }, retry: { maxRetries: 1, baseDelayMs: 50 } },
        servers: { strict: { command: 'x', circuitBreaker: { consecutiveFailures: 1 }, retry: { maxRetries: 0 } }, plain: { command: 'x' } },
        profiles: { p: { allow: ['*/*'] } },
      },
      '/tmp/gatehouse.yaml',
      {},
    );
    const resilience = new Resilience(config, quietHooks);
    assert.deepEqual(resilience.guard('strict').retry, { maxRetries: 0, baseDelayMs: 50, maxDelayMs: 2000 });
    assert.deepEqual(resilience.guard('plain').retry, { maxRetries: 1, baseDelayMs: 50, maxDelayMs: 2000 });
    for (const server of ['strict', 'plain']) await assert.rejects(resilience.guard(server).circuit.run(() => Promise.reject(down())));
    assert.equal(resilience.guard('strict').circuit.status().state, 'open', 'its own 1 failure in a row');
    assert.equal(resilience.guard('plain').circuit.status().state, 'closed', 'the default 7 failures in a row');
  });

  test('config: resilience keys validate, merge with defaults per key, and bad values name their path', () => {
    const config = validateConfig(
      {
        defaults: { circuitBreaker: { consecutiveFailures: 7 }, retry: { maxRetries: 1 } },
        servers: { s: { command: 'x', circuitBreaker: { halfOpenAfterMs: 500 }, maxConcurrentCalls: 3, tools: { 'get_*': { gate: 'G0', idempotent: true, callTimeoutMs: 100 } } } },
        profiles: { p: { allow: ['s/*'], rateLimit: { callsPerSecond: 5 } } },
        agents: { a: { profiles: ['p'], tokenSha256: 'a'.repeat(64), rateLimit: { callsPerSecond: 1, burst: 2 } } },
      },
      '/tmp/gatehouse.yaml',
      {},
    );
    const guard = new Resilience(config, { opened: () => undefined, halfOpened: () => undefined, closed: () => undefined }).guard('s');
    assert.equal(guard.bulkhead.maxConcurrent, 3);
    assert.equal(guard.bulkhead.maxQueued, 256);
    assert.deepEqual(guard.retry, { maxRetries: 1, baseDelayMs: 100, maxDelayMs: 2000 });
    assert.equal(guard.maxResultBytes, 8 * 1024 * 1024);
    assert.throws(
      () => validateConfig({ defaults: { retry: { maxRetries: 3 } }, servers: { s: { command: 'x', circuitBreaker: { failureRatio: 2 } } }, profiles: { p: { allow: ['s/*'] } } }, '/tmp/g.yaml', {}),
      (e: unknown) => isGatehouseError(e, 'GH_CONFIG_INVALID') && /defaults\.retry\.maxRetries/.test(e.message) && /servers\.s\.circuitBreaker\.failureRatio/.test(e.message),
    );
  });

  test('stdio framing: lines split across chunks, and a line over the limit is skipped and reported with its edges', () => {
    const lines: string[] = [];
    const oversized: Array<{ bytes: number; tail: string }> = [];
    const splitter = new JsonLineSplitter(20, (line) => lines.push(line), (line) => oversized.push(line));
    splitter.push(Buffer.from('{"a":1}\n{"b"'));
    splitter.push(Buffer.from(':2}\r\n'));
    splitter.push(Buffer.from(`{"big":"${'x'.repeat(40)}","id":7}\n{"c":3}\n`));
    assert.deepEqual(lines, ['{"a":1}', '{"b":2}', '{"c":3}']);
    assert.equal(oversized.length, 1);
    assert.equal(oversized[0]!.bytes, 57);
    assert.match(oversized[0]!.tail, /"id":7}$/);
  });
});

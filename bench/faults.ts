/**
 * Load with injected faults (issue 6 §8): 50 clients, each with its own streamable HTTP session,
 * make 200 sequential calls each, all at once, through `gatehouse serve` to the fault-injection
 * server (test/fixtures/fault-server.ts). 5% of the calls, chosen by a seeded generator, ask the
 * server to misbehave (delay, hang past the timeout, crash mid-call, crash once, invalid JSON-RPC,
 * oversized result, tool error). Half the calls are `lookup` (G0: retried after a transient
 * failure), half `record` (G1, a write: never retried).
 *
 * Checked and reported: every call got an answer; lost events (call outcome events in the store
 * against calls made, read after the gateway stopped); double executions (a `record` id executed
 * more than once, from the server's own execution log); answers by code; p50/p99 latency of all
 * calls and of the calls without an injected fault. Run with `npm run bench:faults [-- --seed N]`.
 */
import { Agent } from 'node:http';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { toYaml } from '../src/config/yaml.js';
import { countEventTypes } from './lib/audit.js';
import { Cleanup } from './lib/cleanup.js';
import { startServe } from './lib/gatehouse.js';
import { REPO_ROOT } from './lib/paths.js';
import { percentiles } from './lib/percentiles.js';
import { RawHttpMcpClient } from './lib/raw-http-client.js';
import { writeResults } from './lib/results.js';
import { seededRandom } from './lib/seeded-random.js';
import { round } from './lib/stats.js';
import { formatTable } from './lib/table.js';
import { makeTempDir } from './lib/temp-dir.js';

const CLIENTS = 50;
const CALLS_PER_CLIENT = 200;
const FAULT_RATE = 0.05;
const CALL_TIMEOUT_MS = 2_000;
const TOKEN_VAR = 'GATEHOUSE_BENCH_TOKEN';
const FAULT_SERVER = path.join(REPO_ROOT, 'dist/test/fixtures/fault-server.js');

/** The injected faults and their share of the faulty calls. */
const FAULTS: Array<{ fault: string; weight: number; args: Record<string, unknown> }> = [
  { fault: 'delay', weight: 25, args: { ms: 300 } },
  { fault: 'error', weight: 20, args: {} },
  { fault: 'invalid', weight: 15, args: {} },
  { fault: 'oversized', weight: 10, args: { bytes: 300_000 } },
  { fault: 'hang', weight: 10, args: {} },
  { fault: 'crash_once', weight: 12, args: {} },
  { fault: 'crash', weight: 8, args: {} },
];

interface CallOutcome {
  client: number;
  id: string;
  tool: 'lookup' | 'record';
  fault: string;
  /** `ok`, `tool_error`, a GH_ code, or `thrown: …` for a JSON-RPC or HTTP failure. */
  answer: string;
  ms: number;
}

async function main(): Promise<void> {
  const seed = Number(argument('--seed') ?? 6);
  const cleanup = new Cleanup();
  try {
    const dir = makeTempDir('gatehouse-faults');
    cleanup.add(dir.remove);
    const executions = path.join(dir.path, 'executions.jsonl');
    const configPath = path.join(dir.path, 'gatehouse.yaml');
    writeFileSync(
      configPath,
      toYaml({
        store: { kind: 'sqlite', path: 'state/gatehouse.db' },
        defaults: { restartBackoffMs: 100, restartBackoffMaxMs: 2_000 },
        servers: {
          faulty: {
            command: process.execPath,
            args: [FAULT_SERVER],
            env: { FAULT_EXECUTIONS_FILE: executions, FAULT_MARKER_DIR: dir.path },
            callTimeoutMs: CALL_TIMEOUT_MS,
            maxResultBytes: 200_000,
            // A ratio, so that scattered faults do not open it; a crash-loop would.
            circuitBreaker: { failureRatio: 0.5, samplingWindowMs: 10_000, minimumCallsPerSecond: 5 },
            tools: { lookup: { gate: 'G0' }, record: { gate: 'G1' } },
          },
        },
        profiles: { bench: { mode: 'eager', allow: ['faulty/*'] } },
        agents: { bench: { profiles: ['bench'], tokenEnv: TOKEN_VAR } },
      }),
    );
    const token = `bench-${seed}-${Date.now()}`;
    const serve = await startServe({ config: configPath, env: { [TOKEN_VAR]: token, GATEHOUSE_LOG_LEVEL: 'error' }, cleanup });
    const url = `${serve.url}/mcp/bench`;
    const headers = { Authorization: `Bearer ${token}` };
    const agent = new Agent({ keepAlive: true, maxSockets: CLIENTS + 1 });
    cleanup.add(() => agent.destroy());

    const warm = await RawHttpMcpClient.connect(url, headers, agent);
    await warm.callTool('faulty__lookup', { id: 'warm-up' });
    await warm.close();

    const random = seededRandom(seed);
    const plans = Array.from({ length: CLIENTS }, (_, client) =>
      Array.from({ length: CALLS_PER_CLIENT }, (_, n) => {
        const tool = random() < 0.5 ? ('lookup' as const) : ('record' as const);
        const faulty = random() < FAULT_RATE;
        const chosen = faulty ? weighted(random) : undefined;
        return { id: `c${client}-${n}`, tool, fault: chosen?.fault ?? 'none', args: chosen?.args ?? {} };
      }),
    );
    const clients = await Promise.all(Array.from({ length: CLIENTS }, () => RawHttpMcpClient.connect(url, headers, agent)));
    const started = performance.now();
    const outcomes = (
      await Promise.all(
        clients.map(async (client, index) => {
          const results: CallOutcome[] = [];
          for (const plan of plans[index]!) {
            const begun = performance.now();
            let answer: string;
            try {
              const result = (await client.callTool(`faulty__${plan.tool}`, { id: plan.id, fault: plan.fault, ...plan.args })) as { isError?: boolean; content?: Array<{ text?: string }> };
              const text = result.content?.[0]?.text ?? '';
              answer = result.isError ? (/^(GH_[A-Z_]+):/.exec(text)?.[1] ?? 'tool_error') : 'ok';
            } catch (error) {
              answer = `thrown: ${(error as Error).message.slice(0, 80)}`;
            }
            results.push({ client: index, id: plan.id, tool: plan.tool, fault: plan.fault, answer, ms: performance.now() - begun });
          }
          return results;
        }),
      )
    ).flat();
    const wallMs = performance.now() - started;
    await Promise.all(clients.map((client) => client.close()));
    await serve.stop(); // graceful: every event is written before the count

    const callsMade = outcomes.length + 1; // and the warm-up call
    const events = countEventTypes(path.join(dir.path, 'state/gatehouse.db'));
    const callEvents = ['tool.call.succeeded', 'tool.call.failed', 'tool.call.held', 'policy.denied'].reduce((sum, type) => sum + (events[type] ?? 0), 0);
    const executed = readExecutions(executions);
    const recordRuns = countBy(executed.filter((e) => e.tool === 'record').map((e) => e.id));
    const doubleExecutions = [...recordRuns.values()].filter((n) => n > 1).length;
    const lookupRuns = countBy(executed.filter((e) => e.tool === 'lookup').map((e) => e.id));
    const lookupReruns = [...lookupRuns.values()].filter((n) => n > 1).length;

    const [p50, p99] = percentiles(outcomes.map((o) => o.ms), [50, 99]);
    const clean = outcomes.filter((o) => o.fault === 'none');
    const [cleanP50, cleanP99] = percentiles(clean.map((o) => o.ms), [50, 99]);
    const byFault = new Map<string, Map<string, { count: number; ms: number[] }>>();
    for (const o of outcomes) {
      const answers = byFault.get(o.fault) ?? new Map<string, { count: number; ms: number[] }>();
      const entry = answers.get(o.answer) ?? { count: 0, ms: [] };
      entry.count += 1;
      entry.ms.push(o.ms);
      answers.set(o.answer, entry);
      byFault.set(o.fault, answers);
    }
    const faultRows = [...byFault].flatMap(([fault, answers]) =>
      [...answers].sort((a, b) => b[1].count - a[1].count).map(([answer, entry]) => [fault, answer, entry.count, round(percentiles(entry.ms, [50])[0]!, 1), round(Math.max(...entry.ms), 1)] as const),
    );

    console.log(`\n${CLIENTS} concurrent raw HTTP clients × ${CALLS_PER_CLIENT} sequential calls, ${FAULT_RATE * 100}% injected faults (seed ${seed}), call timeout ${CALL_TIMEOUT_MS} ms\n`);
    console.log(formatTable(['injected fault', 'agent saw', 'calls', 'p50 ms', 'max ms'], faultRows));
    console.log('');
    const summary = {
      calls: outcomes.length,
      faultsInjected: outcomes.length - clean.length,
      wallMs: round(wallMs),
      callsPerSecond: round(outcomes.length / (wallMs / 1000)),
      p50Ms: round(p50!, 2),
      p99Ms: round(p99!, 2),
      cleanCallsP50Ms: round(cleanP50!, 2),
      cleanCallsP99Ms: round(cleanP99!, 2),
      cleanCallsFailed: clean.filter((o) => o.answer !== 'ok').length,
      cleanCallsFailedByTool: {
        lookup: clean.filter((o) => o.answer !== 'ok' && o.tool === 'lookup').length,
        record: clean.filter((o) => o.answer !== 'ok' && o.tool === 'record').length,
      },
      unanswered: outcomes.filter((o) => o.answer.startsWith('thrown')).length,
      audit: { callsMade, callEvents, lostEvents: callsMade - callEvents, events },
      doubleExecutions,
      recordCallsExecuted: recordRuns.size,
      lookupIdsRunMoreThanOnce: lookupReruns,
    };
    console.log(
      formatTable(
        ['calls', 'faults', 'calls/s', 'p50 ms', 'p99 ms', 'clean p50', 'clean p99', 'clean failed', 'lost events', 'double exec'],
        [[summary.calls, summary.faultsInjected, summary.callsPerSecond, summary.p50Ms, summary.p99Ms, summary.cleanCallsP50Ms, summary.cleanCallsP99Ms, summary.cleanCallsFailed, summary.audit.lostEvents, summary.doubleExecutions]],
      ),
    );
    console.log(
      `\nclean: calls without an injected fault (a crash also fails the other calls in flight on the shared server: "clean failed" counts those).` +
        `\nlost events: calls made (with 1 warm-up) minus call outcome events in the store. double exec: record (G1) ids the server executed more than once.` +
        `\nclean calls failed by tool: lookup (G0, retried once after a crash) ${summary.cleanCallsFailedByTool.lookup}, record (G1, never retried) ${summary.cleanCallsFailedByTool.record}.` +
        `\nlookup (G0) ids run more than once (retries after a crash, allowed for G0): ${lookupReruns}. circuit events: ${events['circuit.opened'] ?? 0} opened, ${events['circuit.closed'] ?? 0} closed; retries scheduled: ${events['retry.scheduled'] ?? 0}; server crashes: ${events['server.crashed'] ?? 0}.`,
    );
    const ok = summary.audit.lostEvents === 0 && doubleExecutions === 0 && summary.unanswered === 0;
    console.log(ok ? '\nOK: zero lost events, zero double executions, every call answered' : '\nFAILED: see lost events, double executions or unanswered calls above');
    const file = writeResults('faults', {
      measured: `${CLIENTS} raw HTTP clients (one session each) × ${CALLS_PER_CLIENT} sequential calls to one fault-injection stdio server through gatehouse serve; ${FAULT_RATE * 100}% of calls inject a fault (weights ${FAULTS.map((f) => `${f.fault} ${f.weight}`).join(', ')}); half lookup (G0), half record (G1)`,
      seed,
      callTimeoutMs: CALL_TIMEOUT_MS,
      summary,
      byFault: faultRows.map(([fault, answer, calls, p50Ms, maxMs]) => ({ fault, answer, calls, p50Ms, maxMs })),
    });
    console.log(`\nwritten to ${file}`);
    if (!ok) process.exitCode = 1;
  } finally {
    await cleanup.run();
  }
}

function weighted(random: () => number): (typeof FAULTS)[number] {
  const total = FAULTS.reduce((sum, f) => sum + f.weight, 0);
  let at = random() * total;
  for (const fault of FAULTS) {
    at -= fault.weight;
    if (at < 0) return fault;
  }
  return FAULTS.at(-1)!;
}

function readExecutions(file: string): Array<{ event: string; tool: string; id: string }> {
  let text = '';
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    return [];
  }
  return text
    .split('\n')
    .filter(Boolean)
    .map((line) => JSON.parse(line) as { event: string; tool: string; id: string })
    .filter((entry) => entry.event === 'executed');
}

function countBy(values: string[]): Map<string, number> {
  const counts = new Map<string, number>();
  for (const value of values) counts.set(value, (counts.get(value) ?? 0) + 1);
  return counts;
}

function argument(flag: string): string | undefined {
  const at = process.argv.indexOf(flag);
  return at >= 0 ? process.argv[at + 1] : undefined;
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? (error.stack ?? error.message) : error);
  process.exitCode = 1;
});

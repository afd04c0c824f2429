/**
 * Concurrency benchmark: 50 clients, each with its own streamable HTTP session, make 200
 * sequential `everything__echo` calls each, all at once, through `gatehouse serve`. Reports
 * throughput, per-call latency (p50, p99), errors, and whether the gateway wrote exactly one
 * audit event per call (counted in its SQLite store after it has stopped).
 *
 * The clients are minimal raw HTTP clients by default (bench/lib/raw-http-client.ts), since 50
 * SDK clients cost more CPU per call than the gateway and share its two cores; `--client sdk`
 * runs the same load with the SDK's Client instead. GATEHOUSE_BASELINE_CLI=<checkout>/dist/gatehouse.mjs
 * measures that build too, in the same run, alternating with this one.
 * Run with `npm run bench:concurrency [-- --client sdk] [-- --runs N]`.
 */
import { Agent } from 'node:http';
import path from 'node:path';
import { countCallEvents } from './lib/audit.js';
import { Cleanup } from './lib/cleanup.js';
import { ECHO } from './lib/everything.js';
import { writeEverythingGateway } from './lib/gatehouse-config.js';
import { percentiles } from './lib/percentiles.js';
import { treeCpuMs } from './lib/proc.js';
import { RawHttpMcpClient } from './lib/raw-http-client.js';
import { writeResults } from './lib/results.js';
import { median, round } from './lib/stats.js';
import { formatTable } from './lib/table.js';
import { gatehouseHttp, type GatehouseBuild, type Target } from './lib/targets.js';
import { CLI } from './lib/paths.js';

const CLIENTS = 50;
const CALLS_PER_CLIENT = 200;
/** Sequential calls on one session first, so that the downstream start is not in the latencies. */
const WARMUP_CALLS = 20;

type ClientKind = 'raw' | 'sdk';

/** One client session as the load sees it: a tool call, and how to end the session. */
interface LoadClient {
  call(): Promise<{ isError?: boolean; content?: unknown }>;
  close(): Promise<void>;
}

interface ClientOutcome {
  latenciesMs: number[];
  errors: string[];
}

interface RunFigures {
  callsPerSecond: number;
  wallMs: number;
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
  errors: number;
  firstErrors: string[];
  clientCpuMsPerCall: number;
  gatewayCpuMsPerCall: number | null;
  audit: { callsMade: number; eventsWritten: number; 'tool.call.succeeded': number; 'tool.call.failed': number; equal: boolean };
}

async function main(): Promise<void> {
  const options = parseOptions(process.argv.slice(2));
  const builds: Array<GatehouseBuild & { label: string }> = [{ cli: CLI, suffix: '', label: 'gatehouse http' }];
  const baselineCli = process.env.GATEHOUSE_BASELINE_CLI;
  if (baselineCli) builds.push({ cli: path.resolve(baselineCli), suffix: ' (baseline)', label: 'gatehouse http (baseline)' });

  const runs = new Map<string, RunFigures[]>(builds.map((build) => [build.label, []]));
  for (let run = 0; run < options.runs; run += 1) {
    // Alternate which build goes first, so that neither always meets a warmer or busier machine.
    const order = run % 2 === 0 ? builds : [...builds].reverse();
    for (const build of order) {
      const cleanup = new Cleanup();
      try {
        runs.get(build.label)!.push(await measureOnce(build, options.client, cleanup));
      } finally {
        await cleanup.run();
      }
    }
    console.error(`run ${run + 1}/${options.runs} done`);
  }

  console.log(
    `\n${CLIENTS} concurrent ${options.client === 'raw' ? 'raw HTTP' : 'SDK'} clients × ${CALLS_PER_CLIENT} sequential everything__echo calls through gatehouse serve (streamable HTTP), median of ${options.runs} run(s)\n`,
  );
  const summary = builds.map((build) => summarize(build.label, runs.get(build.label)!));
  console.log(
    formatTable(
      ['target', 'calls', 'calls/s', 'p50 ms', 'p99 ms', 'max ms', 'errors', 'client CPU', 'gateway CPU', 'events = calls'],
      summary.map((row) => [
        row.target,
        CLIENTS * CALLS_PER_CLIENT,
        row.callsPerSecond.toFixed(0),
        row.p50Ms.toFixed(2),
        row.p99Ms.toFixed(2),
        row.maxMs.toFixed(2),
        row.errors,
        row.clientCpuMsPerCall.toFixed(3),
        row.gatewayCpuMsPerCall?.toFixed(3) ?? '-',
        row.auditEqual ? `yes (${row.eventsWritten})` : 'NO',
      ]),
    ),
  );
  console.log(
    '\ncalls/s over the wall time of the load; p50/p99/max over every call of the median run (by calls/s); errors and audit over all runs.' +
      '\nCPU: median ms per call of the clients (this process) and of the gateway with its server-everything (2 cores shared by all).' +
      `\naudit: call events in the store, read after the gateway stopped, against calls made (including ${WARMUP_CALLS} warm-up calls per run).`,
  );
  const firstErrors = [...new Set([...runs.values()].flat().flatMap((figures) => figures.firstErrors))].slice(0, 5);
  if (firstErrors.length > 0) console.log(`\nfirst errors:\n  ${firstErrors.join('\n  ')}`);
  const allEqual = summary.every((row) => row.auditEqual);
  console.log(allEqual ? '\nOK: one audit event per call in every run' : '\nMISMATCH: audit events and calls differ in some run (see the table)');

  const file = writeResults('concurrency', {
    client: options.client === 'raw' ? 'raw HTTP JSON-RPC client (bench/lib/raw-http-client.ts), one keep-alive agent' : 'SDK Client + StreamableHTTPClientTransport',
    measured: `${CLIENTS} clients (one streamable HTTP session each) making ${CALLS_PER_CLIENT} sequential tools/call everything__echo {message: "x"} each, all clients at once; ${WARMUP_CALLS} warm-up calls on a separate session first; a fresh gateway and store per run`,
    clients: CLIENTS,
    callsPerClient: CALLS_PER_CLIENT,
    warmupCalls: WARMUP_CALLS,
    summary,
    runs: Object.fromEntries(runs),
  });
  console.log(`\nwritten to ${file}`);
  if (!allEqual) process.exitCode = 1;
}

async function measureOnce(build: GatehouseBuild, kind: ClientKind, cleanup: Cleanup): Promise<RunFigures> {
  const gateway = writeEverythingGateway(cleanup);
  const target = await gatehouseHttp(gateway, build)(cleanup);
  const agent = new Agent({ keepAlive: true, maxSockets: CLIENTS + 1 });
  cleanup.add(async () => agent.destroy());
  const connect = (): Promise<LoadClient> => connectClient(target, kind, agent);

  const warm = await connect();
  const warmup = await callMany(warm, WARMUP_CALLS);
  await warm.close();

  const clients = await Promise.all(Array.from({ length: CLIENTS }, () => connect()));
  const gatewayCpuBefore = treeCpuMs(target.pid!);
  const clientCpuBefore = process.cpuUsage();
  const started = performance.now();
  const outcomes = await Promise.all(clients.map((client) => callMany(client, CALLS_PER_CLIENT)));
  const wallMs = performance.now() - started;
  const clientCpu = process.cpuUsage(clientCpuBefore);
  const gatewayCpuAfter = treeCpuMs(target.pid!);
  await Promise.all(clients.map((client) => client.close()));
  await target.stop(); // graceful: the event count is read from a closed store

  const calls = CLIENTS * CALLS_PER_CLIENT;
  const latencies = outcomes.flatMap((outcome) => outcome.latenciesMs);
  const errors = [...warmup.errors, ...outcomes.flatMap((outcome) => outcome.errors)];
  const callsMade = WARMUP_CALLS + calls;
  const events = countCallEvents(gateway.dbPath);
  const eventsWritten = events['tool.call.succeeded'] + events['tool.call.failed'];
  const [p50, p99] = percentiles(latencies, [50, 99]);
  return {
    callsPerSecond: round(calls / (wallMs / 1000)),
    wallMs: round(wallMs),
    p50Ms: round(p50!, 2),
    p99Ms: round(p99!, 2),
    maxMs: round(Math.max(...latencies), 2),
    errors: errors.length,
    firstErrors: [...new Set(errors)].slice(0, 5),
    clientCpuMsPerCall: round((clientCpu.user + clientCpu.system) / 1000 / calls, 3),
    gatewayCpuMsPerCall: gatewayCpuBefore === undefined || gatewayCpuAfter === undefined ? null : round((gatewayCpuAfter - gatewayCpuBefore) / calls, 3),
    audit: { callsMade, eventsWritten, ...events, equal: callsMade === eventsWritten },
  };
}

async function connectClient(target: Target, kind: ClientKind, agent: Agent): Promise<LoadClient> {
  if (kind === 'sdk') {
    const connection = await target.connect();
    return {
      call: () => connection.client.callTool({ name: target.tool, arguments: ECHO.arguments }) as Promise<{ isError?: boolean }>,
      close: () => connection.close(),
    };
  }
  const client = await RawHttpMcpClient.connect(target.http!.url, target.http!.headers, agent);
  return { call: () => client.callTool(target.tool, ECHO.arguments), close: () => client.close() };
}

/** The median run by calls/s, with errors and the audit check taken over every run. */
function summarize(target: string, figures: RunFigures[]) {
  const byRate = [...figures].sort((a, b) => a.callsPerSecond - b.callsPerSecond);
  const middle = byRate[Math.floor((byRate.length - 1) / 2)]!;
  const cpu = figures.map((run) => run.gatewayCpuMsPerCall).filter((value): value is number => value !== null);
  return {
    target,
    callsPerSecond: middle.callsPerSecond,
    runsCallsPerSecond: figures.map((run) => run.callsPerSecond),
    p50Ms: middle.p50Ms,
    p99Ms: middle.p99Ms,
    maxMs: middle.maxMs,
    errors: figures.reduce((sum, run) => sum + run.errors, 0),
    clientCpuMsPerCall: round(median(figures.map((run) => run.clientCpuMsPerCall)), 3),
    gatewayCpuMsPerCall: cpu.length > 0 ? round(median(cpu), 3) : null,
    eventsWritten: figures.reduce((sum, run) => sum + run.audit.eventsWritten, 0),
    auditEqual: figures.every((run) => run.audit.equal),
  };
}

/** `count` sequential echo calls; errors (thrown or tool errors) are counted, not fatal. */
async function callMany(client: LoadClient, count: number): Promise<ClientOutcome> {
  const outcome: ClientOutcome = { latenciesMs: [], errors: [] };
  for (let i = 0; i < count; i += 1) {
    const started = performance.now();
    try {
      const result = await client.call();
      if (result.isError) outcome.errors.push(`tool error: ${JSON.stringify(result.content).slice(0, 200)}`);
    } catch (error) {
      outcome.errors.push(error instanceof Error ? error.message : String(error));
    }
    outcome.latenciesMs.push(performance.now() - started);
  }
  return outcome;
}

function parseOptions(args: string[]): { client: ClientKind; runs: number } {
  const value = (flag: string): string | undefined => {
    const at = args.indexOf(flag);
    return at >= 0 ? args[at + 1] : undefined;
  };
  const client = value('--client') ?? 'raw';
  if (client !== 'raw' && client !== 'sdk') throw new Error(`--client must be raw or sdk, not "${client}"`);
  const runs = Number(value('--runs') ?? 3);
  if (!Number.isInteger(runs) || runs < 1) throw new Error(`--runs must be a whole number of at least 1, not "${value('--runs') ?? ''}"`);
  return { client, runs };
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? (error.stack ?? error.message) : error);
  process.exitCode = 1;
});

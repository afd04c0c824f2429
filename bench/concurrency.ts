/**
 * Concurrency benchmark: 50 clients, each with its own SDK Client and streamable HTTP session,
 * make 200 sequential `everything__echo` calls each, all at once, through `gatehouse serve`.
 * Reports throughput, per-call latency (p50, p99), errors, and whether the gateway wrote exactly
 * one audit event per call (counted in its SQLite store after it has stopped).
 * Run with `npm run bench:concurrency`.
 */
import { countCallEvents } from './lib/audit.js';
import { Cleanup } from './lib/cleanup.js';
import { ECHO } from './lib/everything.js';
import { writeEverythingGateway } from './lib/gatehouse-config.js';
import type { McpConnection } from './lib/mcp-connect.js';
import { percentiles } from './lib/percentiles.js';
import { treeCpuMs } from './lib/proc.js';
import { writeResults } from './lib/results.js';
import { round } from './lib/stats.js';
import { formatTable } from './lib/table.js';
import { gatehouseHttp } from './lib/targets.js';

const CLIENTS = 50;
const CALLS_PER_CLIENT = 200;
/** Sequential calls on one session first, so that the downstream start is not in the latencies. */
const WARMUP_CALLS = 20;

interface ClientOutcome {
  latenciesMs: number[];
  errors: string[];
}

async function main(): Promise<void> {
  const cleanup = new Cleanup();
  try {
    const gateway = writeEverythingGateway(cleanup);
    const target = await gatehouseHttp(gateway)(cleanup);

    const warm = await target.connect();
    const warmup = await callMany(warm, target.tool, WARMUP_CALLS);
    await warm.close();

    const connections = await Promise.all(Array.from({ length: CLIENTS }, () => target.connect()));
    const gatewayCpuBefore = treeCpuMs(target.pid!);
    const clientCpuBefore = process.cpuUsage();
    const started = performance.now();
    const outcomes = await Promise.all(connections.map((connection) => callMany(connection, target.tool, CALLS_PER_CLIENT)));
    const wallMs = performance.now() - started;
    const clientCpu = process.cpuUsage(clientCpuBefore);
    const gatewayCpuAfter = treeCpuMs(target.pid!);
    await Promise.all(connections.map((connection) => connection.close()));
    await target.stop(); // graceful: the event count is read from a closed store

    const latencies = outcomes.flatMap((outcome) => outcome.latenciesMs);
    const errors = [...warmup.errors, ...outcomes.flatMap((outcome) => outcome.errors)];
    const callsMade = WARMUP_CALLS + CLIENTS * CALLS_PER_CLIENT;
    const events = countCallEvents(gateway.dbPath);
    const eventsWritten = events['tool.call.succeeded'] + events['tool.call.failed'];
    const [p50, p99] = percentiles(latencies, [50, 99]);
    const figures = {
      callsPerSecond: round((CLIENTS * CALLS_PER_CLIENT) / (wallMs / 1000)),
      wallMs: round(wallMs),
      p50Ms: round(p50!, 2),
      p99Ms: round(p99!, 2),
      maxMs: round(Math.max(...latencies), 2),
      errors: errors.length,
      // CPU per call of the clients (this process) and of the gateway with its downstream server.
      clientCpuMsPerCall: round((clientCpu.user + clientCpu.system) / 1000 / (CLIENTS * CALLS_PER_CLIENT), 3),
      gatewayCpuMsPerCall:
        gatewayCpuBefore === undefined || gatewayCpuAfter === undefined ? null : round((gatewayCpuAfter - gatewayCpuBefore) / (CLIENTS * CALLS_PER_CLIENT), 3),
    };
    const audit = { callsMade, eventsWritten, ...events, equal: callsMade === eventsWritten };

    console.log(`${CLIENTS} concurrent clients × ${CALLS_PER_CLIENT} sequential everything__echo calls through gatehouse serve (streamable HTTP)\n`);
    console.log(
      formatTable(
        ['calls', 'wall s', 'calls/s', 'p50 ms', 'p99 ms', 'max ms', 'errors'],
        [[CLIENTS * CALLS_PER_CLIENT, (wallMs / 1000).toFixed(2), figures.callsPerSecond.toFixed(0), p50!.toFixed(2), p99!.toFixed(2), figures.maxMs.toFixed(2), errors.length]],
      ),
    );
    console.log(
      `\nCPU per call: clients ${figures.clientCpuMsPerCall.toFixed(3)} ms, gateway + server-everything ${figures.gatewayCpuMsPerCall?.toFixed(3) ?? '-'} ms (2 cores shared by both)`,
    );
    if (errors.length > 0) console.log(`\nfirst errors:\n  ${[...new Set(errors)].slice(0, 5).join('\n  ')}`);
    console.log(`\naudit (events table, read after the gateway stopped; calls made include ${WARMUP_CALLS} warm-up calls)\n`);
    console.log(
      formatTable(
        ['calls made', 'events written', 'tool.call.succeeded', 'tool.call.failed'],
        [[callsMade, eventsWritten, events['tool.call.succeeded'], events['tool.call.failed']]],
      ),
    );
    console.log(
      audit.equal
        ? `\nOK: one audit event per call (${eventsWritten} = ${callsMade})`
        : `\nMISMATCH: ${eventsWritten} audit events for ${callsMade} calls (${eventsWritten - callsMade > 0 ? '+' : ''}${eventsWritten - callsMade})`,
    );

    const file = writeResults('concurrency', {
      measured: `${CLIENTS} SDK clients (one streamable HTTP session each) making ${CALLS_PER_CLIENT} sequential callTool(everything__echo, {message: "x"}) each, all clients at once; latency per call; calls/s over the wall time of that phase; ${WARMUP_CALLS} warm-up calls on a separate session first`,
      clients: CLIENTS,
      callsPerClient: CALLS_PER_CLIENT,
      warmupCalls: WARMUP_CALLS,
      ...figures,
      firstErrors: [...new Set(errors)].slice(0, 5),
      audit,
    });
    console.log(`\nwritten to ${file}`);
    if (!audit.equal) process.exitCode = 1;
  } finally {
    await cleanup.run();
  }
}

/** `count` sequential echo calls; errors (thrown or tool errors) are counted, not fatal. */
async function callMany(connection: McpConnection, tool: string, count: number): Promise<ClientOutcome> {
  const outcome: ClientOutcome = { latenciesMs: [], errors: [] };
  for (let i = 0; i < count; i += 1) {
    const started = performance.now();
    try {
      const result = await connection.client.callTool({ name: tool, arguments: ECHO.arguments });
      if (result.isError) outcome.errors.push(`tool error: ${JSON.stringify(result.content).slice(0, 200)}`);
    } catch (error) {
      outcome.errors.push(error instanceof Error ? error.message : String(error));
    }
    outcome.latenciesMs.push(performance.now() - started);
  }
  return outcome;
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? (error.stack ?? error.message) : error);
  process.exitCode = 1;
});

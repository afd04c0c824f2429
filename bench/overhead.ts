/**
 * Overhead benchmark: sequential calls of server-everything's `echo` ({message: "x"}) from one
 * SDK client, directly (stdio, streamable HTTP), through Gatehouse (HTTP, stdio) and through peer
 * proxies from npm (mcp-proxy, supergateway, mcp-hub). Every target is started and warmed up
 * first; then the runs go round-robin over the targets, each run starting at another one, so that
 * drift on a busy machine is spread over all of them rather than landing on one. Run with `npm run bench:overhead`.
 */
import path from 'node:path';
import { Cleanup } from './lib/cleanup.js';
import { ECHO } from './lib/everything.js';
import { writeEverythingGateway } from './lib/gatehouse-config.js';
import { waitForTool, type McpConnection } from './lib/mcp-connect.js';
import { mcpHub, mcpProxy, supergateway } from './lib/peers.js';
import { writeResults } from './lib/results.js';
import { treeCpuMs } from './lib/proc.js';
import { median, round } from './lib/stats.js';
import { formatTable } from './lib/table.js';
import { bytePipeStdio, directStdio, directStreamableHttp, gatehouseHttp, gatehouseStdio, sdkProxyStdio, type Launcher, type Target } from './lib/targets.js';

/** JIT tiers keep improving well past 200 calls: with 200, run 1 was the slowest run of every target. */
const WARMUP_CALLS = 1000;
const CALLS_PER_RUN = 1000;
/** OVERHEAD_RUNS=n for more: on a noisy machine the run-by-run comparison below needs them. */
const RUNS = runsFromEnvironment(process.env.OVERHEAD_RUNS, 5);

/** A target that started and warmed up, and the row its runs go into. */
interface Live {
  target: Target;
  connection: McpConnection;
  row: Row;
}

interface Row {
  name: string;
  transport: string;
  command: string;
  tool: string;
  /** Why the target could not be measured; absent when it was. */
  error?: string;
  runsMsPerCall: number[];
  /** CPU of this (client) process per call, per run. */
  runsClientCpuMsPerCall: number[];
  /** CPU of the target's process tree (proxy or gateway and the server behind it) per call, per run. */
  runsTargetCpuMsPerCall: number[];
  medianMsPerCall?: number;
  medianClientCpuMsPerCall?: number;
  medianTargetCpuMsPerCall?: number;
  minMsPerCall?: number;
  maxMsPerCall?: number;
  ratioToDirectStdio?: number;
  ratioToGatehouseHttp?: number;
  /** Median ms/call minus direct stdio's: what this hop adds to a call. */
  addedMsVsDirectStdio?: number;
  /** Runs in which Gatehouse HTTP was faster than this target (each run measures every target once, one after the other). */
  gatehouseHttpFasterRuns?: number;
}

async function main(): Promise<void> {
  const cleanup = new Cleanup();
  try {
    const gateway = writeEverythingGateway(cleanup);
    // GATEHOUSE_BASELINE_CLI=<other checkout>/dist/gatehouse.mjs adds that build as two more
    // targets (own config and store), so that a change is measured against its parent in one run.
    const baselineCli = process.env.GATEHOUSE_BASELINE_CLI;
    const baseline: Array<[string, Launcher]> = [];
    if (baselineCli) {
      const build = { cli: path.resolve(baselineCli), suffix: ' (baseline)' };
      const baselineGateway = writeEverythingGateway(cleanup);
      baseline.push(['gatehouse http (baseline)', gatehouseHttp(baselineGateway, build)], ['gatehouse stdio (baseline)', gatehouseStdio(baselineGateway, build)]);
    }
    const launchers: Array<[string, Launcher]> = [
      ['direct stdio', directStdio],
      ['byte-pipe hop (floor)', bytePipeStdio],
      ['SDK proxy (floor)', sdkProxyStdio],
      ['direct streamable HTTP', directStreamableHttp],
      ['gatehouse http', gatehouseHttp(gateway)],
      ['gatehouse stdio', gatehouseStdio(gateway)],
      ...baseline,
      ['mcp-proxy', mcpProxy],
      ['supergateway', supergateway],
      ['mcp-hub', mcpHub],
    ];
    const rows: Row[] = [];
    const live: Live[] = [];
    for (const [label, launch] of launchers) {
      const row: Row = { name: label, transport: '', command: '', tool: '', runsMsPerCall: [], runsClientCpuMsPerCall: [], runsTargetCpuMsPerCall: [] };
      rows.push(row);
      let target: Target | undefined;
      let connection: McpConnection | undefined;
      try {
        target = await launch(cleanup);
        Object.assign(row, { name: target.name, transport: target.transport, command: target.command, tool: target.tool });
        connection = await target.connect();
        await waitForTool(connection.client, target.tool);
        await callEcho(connection, target.tool, WARMUP_CALLS);
        live.push({ target, connection, row });
      } catch (error) {
        row.error = describe(error);
        console.error(`${row.name}: could not be measured: ${row.error}`);
        await connection?.close();
        await target?.stop();
      }
    }

    for (let run = 1; run <= RUNS; run += 1) {
      // Each run starts at another target, so that no target always follows the same one (the
      // client's garbage from a heavy target lands on whichever comes next).
      const start = (run - 1) % live.length;
      for (const entry of [...live.slice(start), ...live.slice(0, start)]) {
        try {
          const pid = entry.target.pid ?? entry.connection.pid;
          const targetCpu = pid === undefined ? undefined : treeCpuMs(pid);
          const clientCpu = process.cpuUsage();
          const started = performance.now();
          await callEcho(entry.connection, entry.target.tool, CALLS_PER_RUN);
          entry.row.runsMsPerCall.push((performance.now() - started) / CALLS_PER_RUN);
          const client = process.cpuUsage(clientCpu);
          entry.row.runsClientCpuMsPerCall.push((client.user + client.system) / 1000 / CALLS_PER_RUN);
          const targetCpuAfter = pid === undefined ? undefined : treeCpuMs(pid);
          if (targetCpu !== undefined && targetCpuAfter !== undefined) entry.row.runsTargetCpuMsPerCall.push((targetCpuAfter - targetCpu) / CALLS_PER_RUN);
        } catch (error) {
          entry.row.error = `failed in run ${run}: ${describe(error)}`;
          console.error(`${entry.row.name}: ${entry.row.error}`);
          live.splice(live.indexOf(entry), 1);
          await entry.connection.close();
          await entry.target.stop();
        }
      }
      process.stderr.write(`run ${run}/${RUNS} done\n`);
    }
    for (const entry of live) {
      await entry.connection.close();
      await entry.target.stop();
    }

    summarize(rows);
    print(rows);
    const file = writeResults('overhead', {
      measured: `wall time of ${CALLS_PER_RUN} sequential client.callTool(echo, {message: "x"}) from one SDK client, per run, divided by ${CALLS_PER_RUN}; ${WARMUP_CALLS} warm-up calls first; ${RUNS} runs per target, round-robin over the targets. CPU per call, per run: this process (process.cpuUsage) and the target's process tree (/proc utime+stime)`,
      warmupCalls: WARMUP_CALLS,
      callsPerRun: CALLS_PER_RUN,
      runs: RUNS,
      targets: rows,
    });
    console.log(`\nwritten to ${file}`);
  } finally {
    await cleanup.run();
  }
}

/** `count` sequential echo calls; a tool error is an error. */
async function callEcho(connection: McpConnection, tool: string, count: number): Promise<void> {
  for (let i = 0; i < count; i += 1) {
    const result = await connection.client.callTool({ name: tool, arguments: ECHO.arguments });
    if (result.isError) throw new Error(`${tool} returned a tool error: ${JSON.stringify(result.content)}`);
  }
}

function summarize(rows: Row[]): void {
  for (const row of rows) {
    if (row.error || row.runsMsPerCall.length === 0) continue;
    row.medianMsPerCall = round(median(row.runsMsPerCall), 3);
    row.minMsPerCall = round(Math.min(...row.runsMsPerCall), 3);
    row.maxMsPerCall = round(Math.max(...row.runsMsPerCall), 3);
    row.runsMsPerCall = row.runsMsPerCall.map((value) => round(value, 3));
    row.medianClientCpuMsPerCall = round(median(row.runsClientCpuMsPerCall), 3);
    if (row.runsTargetCpuMsPerCall.length > 0) row.medianTargetCpuMsPerCall = round(median(row.runsTargetCpuMsPerCall), 3);
    row.runsClientCpuMsPerCall = row.runsClientCpuMsPerCall.map((value) => round(value, 3));
    row.runsTargetCpuMsPerCall = row.runsTargetCpuMsPerCall.map((value) => round(value, 3));
  }
  const base = (name: string) => rows.find((row) => row.name === name && !row.error)?.medianMsPerCall;
  const directStdioMs = base('direct stdio');
  const gatehouseHttpMs = base('gatehouse http');
  const gatehouseHttpRuns = rows.find((row) => row.name === 'gatehouse http' && !row.error)?.runsMsPerCall;
  for (const row of rows) {
    if (row.medianMsPerCall === undefined) continue;
    if (directStdioMs) {
      row.ratioToDirectStdio = round(row.medianMsPerCall / directStdioMs, 2);
      row.addedMsVsDirectStdio = round(row.medianMsPerCall - directStdioMs, 3);
    }
    if (gatehouseHttpMs) row.ratioToGatehouseHttp = round(row.medianMsPerCall / gatehouseHttpMs, 2);
    if (gatehouseHttpRuns && row.name !== 'gatehouse http') row.gatehouseHttpFasterRuns = row.runsMsPerCall.filter((ms, run) => gatehouseHttpRuns[run]! < ms).length;
  }
}

function print(rows: Row[]): void {
  console.log(`\necho round trip, ${CALLS_PER_RUN} sequential calls per run, median of ${RUNS} runs (after ${WARMUP_CALLS} warm-up calls)\n`);
  const measured = rows.filter((row) => row.medianMsPerCall !== undefined);
  console.log(
    formatTable(
      ['target', 'transport', 'ms/call', 'min', 'max', '+ms vs direct stdio', '× direct stdio', '× gatehouse http', 'gh http faster', 'client CPU', 'target CPU'],
      measured.map((row) => [
        row.name,
        row.transport,
        row.medianMsPerCall!.toFixed(3),
        row.minMsPerCall!.toFixed(3),
        row.maxMsPerCall!.toFixed(3),
        row.addedMsVsDirectStdio?.toFixed(3) ?? '-',
        row.ratioToDirectStdio?.toFixed(2) ?? '-',
        row.ratioToGatehouseHttp?.toFixed(2) ?? '-',
        row.gatehouseHttpFasterRuns === undefined ? '-' : `${row.gatehouseHttpFasterRuns}/${row.runsMsPerCall.length}`,
        row.medianClientCpuMsPerCall!.toFixed(3),
        row.medianTargetCpuMsPerCall?.toFixed(3) ?? '-',
      ]),
    ),
  );
  console.log('\nms/call: wall time; min/max over runs. client/target CPU: median ms of CPU per call in this process and in the');
  console.log("target's process tree (proxy or gateway plus the server-everything behind it), from /proc at 10 ms resolution.");
  console.log('byte-pipe hop: a process that only copies bytes to and from server-everything, the least any stdio proxy adds here.');
  console.log('gh http faster: in how many runs Gatehouse HTTP took less time per call than this target did in the same run.');
  console.log('SDK proxy: an SDK Server whose tools/call goes through an SDK Client, nothing else: the least an SDK-based gateway adds.');
  for (const row of rows.filter((r) => r.error)) console.log(`\nnot measured: ${row.name}: ${row.error}`);
}

function runsFromEnvironment(value: string | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  const runs = Number(value);
  if (!Number.isInteger(runs) || runs < 1) throw new Error(`OVERHEAD_RUNS must be a whole number of at least 1, not "${value}"`);
  return runs;
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? (error.stack ?? error.message) : error);
  process.exitCode = 1;
});

/**
 * Cold-start benchmark: from spawning `gatehouse serve` to the first eager tools/list answer on
 * the twenty-server fixture, with a pre-indexed store. The list must come from the schema
 * cache: after it, /healthz has to report no downstream server running.
 * GATEHOUSE_BASELINE_CLI=<checkout>/dist/gatehouse.mjs measures that build too, alternating runs.
 * Run with `npm run bench:coldstart`.
 */
import { Agent } from 'node:http';
import path from 'node:path';
import { Cleanup } from './lib/cleanup.js';
import { connectProfile, fetchHealth } from './lib/client.js';
import { indexTwentyServers, type IndexedFixture } from './lib/fixture.js';
import { startServe } from './lib/gatehouse.js';
import { writeResults } from './lib/results.js';
import { median, round } from './lib/stats.js';
import { formatTable } from './lib/table.js';
import { RawHttpMcpClient } from './lib/raw-http-client.js';
import { CLI } from './lib/paths.js';

const RUNS = 5;
const PROFILE = 'all-eager';

interface Run {
  run: number;
  /** Spawn to the "gatehouse listening on" line. */
  listeningMs: number;
  /** Spawn to the first tools/list answer (includes the MCP initialize handshake). */
  firstListMs: number;
  /** The same with a raw JSON-RPC client: spawn to the last byte of the answer, without the SDK client's validation. */
  rawFirstListMs: number;
  tools: number;
  serversRunning: string[];
}

async function main(): Promise<void> {
  const cleanup = new Cleanup();
  try {
    const builds = [{ label: 'this build', cli: CLI }];
    if (process.env.GATEHOUSE_BASELINE_CLI) builds.push({ label: 'baseline', cli: path.resolve(process.env.GATEHOUSE_BASELINE_CLI) });
    // Indexed once: every run then starts from the same warm store, as a restarted gateway would.
    // The index run also leaves the V8 code cache of this build's bundle (scripts/launcher.mjs),
    // as any first run on a machine does.
    const fixture = await indexTwentyServers(cleanup);
    const runs = new Map<string, Run[]>(builds.map((build) => [build.label, []]));
    for (let run = 1; run <= RUNS; run += 1) {
      const order = run % 2 === 1 ? builds : [...builds].reverse();
      for (const build of order) runs.get(build.label)!.push(await coldStart(run, fixture, cleanup, build.cli));
    }
    const summaries = builds.map((build) => {
      const own = runs.get(build.label)!;
      return {
        build: build.label,
        cli: build.cli,
        listeningMs: round(median(own.map((r) => r.listeningMs))),
        firstListMs: round(median(own.map((r) => r.firstListMs))),
        rawFirstListMs: round(median(own.map((r) => r.rawFirstListMs))),
      };
    });
    console.log(`cold start to the first tools/list on ${PROFILE} (${RUNS} runs per build; servers running after each list: 0)\n`);
    const rows = builds.flatMap((build, index) => [
      ...runs.get(build.label)!.map((r) => [build.label, String(r.run), ms(r.listeningMs), ms(r.firstListMs), ms(r.rawFirstListMs), r.tools]),
      [build.label, 'median', ms(summaries[index]!.listeningMs), ms(summaries[index]!.firstListMs), ms(summaries[index]!.rawFirstListMs), ''],
    ]);
    console.log(formatTable(['build', 'run', 'listening ms', 'first tools/list ms (SDK client)', 'first tools/list ms (raw client)', 'tools'], rows));
    const file = writeResults('coldstart', {
      fixture: 'bench/fixtures/twenty-servers.yaml',
      profile: PROFILE,
      measured:
        'spawn of `gatehouse serve --port 0 --quiet` to the first tools/list answer over streamable HTTP, including MCP initialize; once with the SDK client (which also validates the 500 KB result) and once, on a fresh gateway, with a raw JSON-RPC client (to the last byte of the answer)',
      runs: Object.fromEntries(runs),
      medianMs: summaries[0],
      ...(summaries.length > 1 ? { baselineMedianMs: summaries[1] } : {}),
    });
    console.log(`\nwritten to ${file}`);
  } finally {
    await cleanup.run();
  }
}

async function coldStart(run: number, fixture: IndexedFixture, cleanup: Cleanup, cli: string): Promise<Run> {
  const sdk = await timeFirstList(fixture, cleanup, cli, async (url) => {
    const connection = await connectProfile(url, PROFILE, fixture.token);
    const { tools } = await connection.client.listTools();
    return { tools: tools.length, close: () => connection.close() };
  });
  const raw = await timeFirstList(fixture, cleanup, cli, (url) => rawListTools(`${url}/mcp/${PROFILE}`, fixture.token));
  return { run, listeningMs: sdk.listeningMs, firstListMs: sdk.firstListMs, rawFirstListMs: raw.firstListMs, tools: sdk.tools, serversRunning: [] };
}

/** One fresh gateway: spawn, list once with `list`, check that no server was started for it. */
async function timeFirstList(
  fixture: IndexedFixture,
  cleanup: Cleanup,
  cli: string,
  list: (url: string) => Promise<{ tools: number; close: () => Promise<void> }>,
): Promise<{ listeningMs: number; firstListMs: number; tools: number }> {
  const serve = await startServe({ config: fixture.config, env: fixture.env, cleanup, cli });
  try {
    const listed = await list(serve.url);
    const firstListMs = round(performance.now() - serve.spawnedAt);
    const health = await fetchHealth(serve.url);
    await listed.close();
    if (health.serversRunning.length > 0) {
      throw new Error(`tools/list started servers (${health.serversRunning.join(', ')}); it should come from the cache`);
    }
    return { listeningMs: round(serve.listeningAt - serve.spawnedAt), firstListMs, tools: listed.tools };
  } finally {
    await serve.stop();
  }
}

/** initialize, notifications/initialized, tools/list as plain HTTP; the answer is read to its last byte. */
async function rawListTools(endpoint: string, token: string): Promise<{ tools: number; close: () => Promise<void> }> {
  const agent = new Agent({ keepAlive: true });
  try {
    const client = await RawHttpMcpClient.connect(endpoint, { authorization: `Bearer ${token}` }, agent);
    const listed = (await client.request('tools/list', {})) as { tools?: unknown[] };
    return { tools: listed.tools?.length ?? 0, close: () => client.close().finally(() => agent.destroy()) };
  } catch (error) {
    agent.destroy();
    throw error;
  }
}

function ms(value: number): string {
  return value.toFixed(1);
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? (error.stack ?? error.message) : error);
  process.exitCode = 1;
});

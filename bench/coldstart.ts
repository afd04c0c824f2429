/**
 * Cold-start benchmark: from spawning `gatehouse serve` to the first eager tools/list answer on
 * the twenty-server fixture, with a pre-indexed store. The list must come from the schema
 * cache: after it, /healthz has to report no downstream server running.
 * Run with `npm run bench:coldstart`.
 */
import { Cleanup } from './lib/cleanup.js';
import { connectProfile, fetchHealth } from './lib/client.js';
import { indexTwentyServers, type IndexedFixture } from './lib/fixture.js';
import { startServe } from './lib/gatehouse.js';
import { writeResults } from './lib/results.js';
import { median, round } from './lib/stats.js';
import { formatTable } from './lib/table.js';

const RUNS = 5;
const PROFILE = 'all-eager';

interface Run {
  run: number;
  /** Spawn to the "gatehouse listening on" line. */
  listeningMs: number;
  /** Spawn to the first tools/list answer (includes the MCP initialize handshake). */
  firstListMs: number;
  tools: number;
  serversRunning: string[];
}

async function main(): Promise<void> {
  const cleanup = new Cleanup();
  try {
    // Indexed once: every run then starts from the same warm store, as a restarted gateway would.
    const fixture = await indexTwentyServers(cleanup);
    const runs: Run[] = [];
    for (let run = 1; run <= RUNS; run += 1) runs.push(await coldStart(run, fixture, cleanup));
    const summary = {
      listeningMs: round(median(runs.map((r) => r.listeningMs))),
      firstListMs: round(median(runs.map((r) => r.firstListMs))),
    };
    console.log(`cold start to the first tools/list on ${PROFILE} (${RUNS} runs; servers running after each list: 0)\n`);
    console.log(
      formatTable(
        ['run', 'listening ms', 'first tools/list ms', 'tools'],
        [
          ...runs.map((r) => [String(r.run), ms(r.listeningMs), ms(r.firstListMs), r.tools]),
          ['median', ms(summary.listeningMs), ms(summary.firstListMs), ''],
        ],
      ),
    );
    const file = writeResults('coldstart', {
      fixture: 'bench/fixtures/twenty-servers.yaml',
      profile: PROFILE,
      measured:
        'spawn of `gatehouse serve --port 0 --quiet` to the first tools/list answer over streamable HTTP, including MCP initialize and the SDK client validating the result',
      runs,
      medianMs: summary,
    });
    console.log(`\nwritten to ${file}`);
  } finally {
    await cleanup.run();
  }
}

async function coldStart(run: number, fixture: IndexedFixture, cleanup: Cleanup): Promise<Run> {
  const serve = await startServe({ config: fixture.config, env: fixture.env, cleanup });
  try {
    const connection = await connectProfile(serve.url, PROFILE, fixture.token);
    const { tools } = await connection.client.listTools();
    const firstListMs = round(performance.now() - serve.spawnedAt);
    const health = await fetchHealth(serve.url);
    await connection.close();
    if (health.serversRunning.length > 0) {
      throw new Error(`run ${run}: tools/list started servers (${health.serversRunning.join(', ')}); it should come from the cache`);
    }
    return { run, listeningMs: round(serve.listeningAt - serve.spawnedAt), firstListMs, tools: tools.length, serversRunning: health.serversRunning };
  } finally {
    await serve.stop();
  }
}

function ms(value: number): string {
  return value.toFixed(1);
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? (error.stack ?? error.message) : error);
  process.exitCode = 1;
});

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
  /** The same with a raw JSON-RPC client: spawn to the last byte of the answer, without the SDK client's validation. */
  rawFirstListMs: number;
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
      rawFirstListMs: round(median(runs.map((r) => r.rawFirstListMs))),
    };
    console.log(`cold start to the first tools/list on ${PROFILE} (${RUNS} runs; servers running after each list: 0)\n`);
    console.log(
      formatTable(
        ['run', 'listening ms', 'first tools/list ms (SDK client)', 'first tools/list ms (raw client)', 'tools'],
        [
          ...runs.map((r) => [String(r.run), ms(r.listeningMs), ms(r.firstListMs), ms(r.rawFirstListMs), r.tools]),
          ['median', ms(summary.listeningMs), ms(summary.firstListMs), ms(summary.rawFirstListMs), ''],
        ],
      ),
    );
    const file = writeResults('coldstart', {
      fixture: 'bench/fixtures/twenty-servers.yaml',
      profile: PROFILE,
      measured:
        'spawn of `gatehouse serve --port 0 --quiet` to the first tools/list answer over streamable HTTP, including MCP initialize; once with the SDK client (which also validates the 500 KB result) and once, on a fresh gateway, with a raw JSON-RPC client (to the last byte of the answer)',
      runs,
      medianMs: summary,
    });
    console.log(`\nwritten to ${file}`);
  } finally {
    await cleanup.run();
  }
}

async function coldStart(run: number, fixture: IndexedFixture, cleanup: Cleanup): Promise<Run> {
  const sdk = await timeFirstList(fixture, cleanup, async (url) => {
    const connection = await connectProfile(url, PROFILE, fixture.token);
    const { tools } = await connection.client.listTools();
    return { tools: tools.length, close: () => connection.close() };
  });
  const raw = await timeFirstList(fixture, cleanup, (url) => rawListTools(`${url}/mcp/${PROFILE}`, fixture.token));
  return { run, listeningMs: sdk.listeningMs, firstListMs: sdk.firstListMs, rawFirstListMs: raw.firstListMs, tools: sdk.tools, serversRunning: [] };
}

/** One fresh gateway: spawn, list once with `list`, check that no server was started for it. */
async function timeFirstList(
  fixture: IndexedFixture,
  cleanup: Cleanup,
  list: (url: string) => Promise<{ tools: number; close: () => Promise<void> }>,
): Promise<{ listeningMs: number; firstListMs: number; tools: number }> {
  const serve = await startServe({ config: fixture.config, env: fixture.env, cleanup });
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
  const headers = { authorization: `Bearer ${token}`, 'content-type': 'application/json', accept: 'application/json, text/event-stream' };
  const post = (body: unknown, session?: string) =>
    fetch(endpoint, { method: 'POST', headers: session ? { ...headers, 'mcp-session-id': session, 'mcp-protocol-version': '2025-06-18' } : headers, body: JSON.stringify(body) });
  const init = await post({ jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'coldstart', version: '1' } } });
  const session = init.headers.get('mcp-session-id') ?? undefined;
  await init.text();
  await (await post({ jsonrpc: '2.0', method: 'notifications/initialized' }, session)).text();
  const text = await (await post({ jsonrpc: '2.0', id: 2, method: 'tools/list', params: {} }, session)).text();
  const data = text.split('\n').find((line) => line.startsWith('data: '));
  const message = JSON.parse(data ? data.slice('data: '.length) : text) as { result?: { tools?: unknown[] } };
  return { tools: message.result?.tools?.length ?? 0, close: async () => undefined };
}

function ms(value: number): string {
  return value.toFixed(1);
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? (error.stack ?? error.message) : error);
  process.exitCode = 1;
});

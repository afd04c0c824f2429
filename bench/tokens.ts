/**
 * Token benchmark: how much of an agent's context `tools/list` costs on the twenty-server
 * fixture, eager (every tool) against lazy (three meta-tools). Run with `npm run bench:tokens`.
 */
import { countTokens } from '@anthropic-ai/tokenizer';
import type { Tool } from '@modelcontextprotocol/sdk/types.js';
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { Cleanup } from './lib/cleanup.js';
import { connectProfile } from './lib/client.js';
import { indexTwentyServers } from './lib/fixture.js';
import { startServe } from './lib/gatehouse.js';
import { writeResults } from './lib/results.js';
import { round } from './lib/stats.js';
import { formatTable } from './lib/table.js';

// The only tokenizer Anthropic publishes on npm predates Claude 3, so the counts are a proxy.
const TOKENIZER = 'approximate (@anthropic-ai/tokenizer, pre-Claude-3 vocabulary)';

interface Measurement {
  mode: 'eager' | 'lazy';
  profile: string;
  tools: number;
  characters: number;
  tokens: number;
}

async function main(): Promise<void> {
  const cleanup = new Cleanup();
  try {
    const fixture = await indexTwentyServers(cleanup);
    const serve = await startServe({ config: fixture.config, env: fixture.env, cleanup });

    const eager = await measure(serve.url, 'all-eager', 'eager', fixture.token);
    const lazy = await measure(serve.url, 'all-lazy', 'lazy', fixture.token);
    const reduction = {
      characters: round(100 * (1 - lazy.characters / eager.characters)),
      tokens: round(100 * (1 - lazy.tokens / eager.tokens)),
    };

    console.log(`tools/list size on the twenty-server fixture (tokens: ${TOKENIZER})\n`);
    console.log(
      formatTable(
        ['mode', 'tools', 'characters', 'tokens'],
        [eager, lazy].map((m) => [m.mode, m.tools, m.characters, m.tokens]),
      ),
    );
    console.log(`\nlazy vs eager: ${reduction.tokens}% fewer tokens, ${reduction.characters}% fewer characters`);

    const file = writeResults('tokens', {
      fixture: 'bench/fixtures/twenty-servers.yaml',
      measured: 'JSON.stringify of the tools array of the tools/list result, as the MCP SDK client returns it',
      tokenizer: TOKENIZER,
      modes: [eager, lazy],
      reductionPercent: reduction,
    });
    console.log(`written to ${file}`);
  } finally {
    await cleanup.run();
  }
}

async function measure(url: string, profile: string, mode: Measurement['mode'], token: string): Promise<Measurement> {
  const connection = await connectProfile(url, profile, token);
  try {
    const tools = await listAllTools(connection.client);
    const json = JSON.stringify(tools);
    return { mode, profile, tools: tools.length, characters: json.length, tokens: countTokens(json) };
  } finally {
    await connection.close();
  }
}

/** Follows nextCursor, so that a paginating gateway would still be measured in full. */
async function listAllTools(client: Client): Promise<Tool[]> {
  const tools: Tool[] = [];
  let cursor: string | undefined;
  do {
    const page = await client.listTools(cursor === undefined ? {} : { cursor });
    tools.push(...page.tools);
    cursor = page.nextCursor;
  } while (cursor !== undefined);
  return tools;
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? (error.stack ?? error.message) : error);
  process.exitCode = 1;
});

/**
 * The floor of an MCP gateway built on the SDK: an SDK Server on stdio whose tools/list and
 * tools/call go through an SDK Client to server-everything, and nothing else (no policy, no
 * validation, no audit). Between the byte-pipe row and Gatehouse's, it shows what the SDK's
 * two protocol layers cost per call and what Gatehouse's own pipeline and audit add on top.
 * Run by the bench as `node sdk-proxy.js`; not a product.
 */
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { getDefaultEnvironment, StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { Server } from '@modelcontextprotocol/sdk/server/index.js';
import { StdioServerTransport } from '@modelcontextprotocol/sdk/server/stdio.js';
import { CallToolRequestSchema, CallToolResultSchema, ListToolsRequestSchema } from '@modelcontextprotocol/sdk/types.js';
import { EVERYTHING_STDIO } from './everything.js';

const PREFIX = 'everything__';

const client = new Client({ name: 'sdk-proxy', version: '0.1.0' });
await client.connect(new StdioClientTransport({ command: EVERYTHING_STDIO.command, args: [...EVERYTHING_STDIO.args], env: getDefaultEnvironment(), stderr: 'ignore' }));
const server = new Server({ name: 'sdk-proxy', version: '0.1.0' }, { capabilities: { tools: {} } });
server.setRequestHandler(ListToolsRequestSchema, async () => ({
  tools: (await client.listTools()).tools.map((tool) => ({ ...tool, name: PREFIX + tool.name })),
}));
server.setRequestHandler(CallToolRequestSchema, async (request) =>
  client.request({ method: 'tools/call', params: { ...request.params, name: request.params.name.slice(PREFIX.length) } }, CallToolResultSchema),
);
await server.connect(new StdioServerTransport());
process.stdin.on('end', () => void client.close().then(() => process.exit(0)));

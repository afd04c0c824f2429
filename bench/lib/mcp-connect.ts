import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { SSEClientTransport } from '@modelcontextprotocol/sdk/client/sse.js';
import { getDefaultEnvironment, StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type { Cleanup } from './cleanup.js';
import { freshSignalFetch } from '../../src/downstream/fresh-signal-fetch.js';
import { descendantsOf, killSurvivors } from './proc.js';
import { REPO_ROOT } from './paths.js';

/** An SDK client connected over one transport, and how to end its session or process. */
export interface McpConnection {
  client: Client;
  /** The server process, when this connection started it (stdio). */
  pid?: number;
  close(): Promise<void>;
}

/** The one command a stdio target is started with. */
export interface StdioCommand {
  command: string;
  args: readonly string[];
  /** Added to the SDK's default environment (PATH, HOME, …), not to this process's. */
  env?: Record<string, string>;
}

function newClient(): Client {
  return new Client({ name: 'gatehouse-bench', version: '0.1.0' });
}

/**
 * Starts `command` as a stdio MCP server with the SDK's StdioClientTransport and connects. The SDK
 * spawns the child itself (not as a group leader), so close() also kills any descendant the
 * server left behind; close() is registered with `cleanup`. A failed start quotes the server's
 * last stderr lines.
 */
export async function connectStdio(target: StdioCommand, cleanup: Cleanup): Promise<McpConnection> {
  const client = newClient();
  const transport = new StdioClientTransport({
    command: target.command,
    args: [...target.args],
    env: { ...getDefaultEnvironment(), ...target.env },
    cwd: REPO_ROOT,
    stderr: 'pipe',
  });
  // Drained (a full pipe would block the server) and its tail kept: the only explanation when it fails to start.
  let stderrTail = '';
  transport.stderr?.on('data', (chunk: Buffer) => {
    stderrTail = (stderrTail + chunk.toString()).slice(-2000);
  });
  let started = false;
  const close = once(async () => {
    const pid = transport.pid;
    const descendants = pid === null ? [] : descendantsOf(pid);
    await client.close().catch(() => undefined);
    if (started) killSurvivors(descendants);
  });
  cleanup.add(close);
  try {
    await client.connect(transport);
  } catch (error) {
    throw new Error(`${target.command} ${target.args.join(' ')}: ${(error as Error).message}\n${stderrTail}`);
  }
  started = true;
  return { client, pid: transport.pid ?? undefined, close };
}

/**
 * Connects over streamable HTTP. `headers` go on every request (e.g. a bearer token); the fetch
 * gives each POST a fresh abort signal. close() ends the session (DELETE) and the client.
 */
export async function connectStreamableHttp(url: string, cleanup: Cleanup, headers: Record<string, string> = {}): Promise<McpConnection> {
  const client = newClient();
  const transport = new StreamableHTTPClientTransport(new URL(url), { requestInit: { headers }, fetch: freshSignalFetch });
  const close = once(async () => {
    await transport.terminateSession().catch(() => undefined);
    await client.close().catch(() => undefined);
  });
  cleanup.add(close);
  await client.connect(transport);
  return { client, close };
}

/** Connects over the older HTTP+SSE transport (GET event stream, POSTed messages). */
export async function connectSse(url: string, cleanup: Cleanup, headers: Record<string, string> = {}): Promise<McpConnection> {
  const client = newClient();
  const transport = new SSEClientTransport(new URL(url), { requestInit: { headers }, fetch: freshSignalFetch });
  const close = once(() => client.close().catch(() => undefined));
  cleanup.add(close);
  await client.connect(transport);
  return { client, close };
}

/**
 * Waits until the server lists a tool named `name` (a hub may connect its servers after it
 * starts listening) and returns it; fails after `timeoutMs` with the names it did see.
 */
export async function waitForTool(client: Client, name: string, timeoutMs = 30_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  let seen: string[] = [];
  while (Date.now() < until) {
    seen = (await client.listTools()).tools.map((tool) => tool.name);
    if (seen.includes(name)) return;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  throw new Error(`tool ${name} not listed within ${timeoutMs} ms (saw: ${seen.join(', ') || 'none'})`);
}

function once(fn: () => Promise<void>): () => Promise<void> {
  let running: Promise<void> | undefined;
  return () => (running ??= fn());
}

import assert from 'node:assert/strict';
import { execFileSync, spawn, spawnSync, type ChildProcess, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type { ClientCapabilities } from '@modelcontextprotocol/sdk/types.js';
import { toYaml } from '../../src/config/yaml.js';
import { keepNotificationsBeforeResponses } from '../../src/downstream/notification-order.js';
import { startServe as startServeProcess } from '../../bench/lib/gatehouse.js';
import { CLI, REPO_ROOT as REPO } from '../../bench/lib/paths.js';

export { CLI, REPO_ROOT as REPO } from '../../bench/lib/paths.js';

/** Tests that are not about governance run every tool ungated (G0 by config). */
export const UNGATED = { '*': { gate: 'G0' } };

/** Real reference servers from node_modules, as config entries. */
export const SERVERS = {
  everything: { domain: 'builder', command: process.execPath, args: [path.join(REPO, 'node_modules/@modelcontextprotocol/server-everything/dist/index.js'), 'stdio'], tools: UNGATED },
  filesystem: { domain: 'data', command: process.execPath, args: [path.join(REPO, 'node_modules/@modelcontextprotocol/server-filesystem/dist/index.js'), path.join(REPO, 'sandbox')], tools: UNGATED },
  memory: { domain: 'memory', command: process.execPath, args: [path.join(REPO, 'node_modules/@modelcontextprotocol/server-memory/dist/index.js')], tools: UNGATED },
};

export const TOKENS = { alice: 'alice-token-0123456789', bob: 'bob-token-0123456789' };

/** A temp folder with a gatehouse.yaml in it; `cleanup()` removes it. */
export function tempConfig(config: Record<string, unknown>): { dir: string; configPath: string; cleanup: () => void } {
  const dir = mkdtempSync(path.join(tmpdir(), 'gatehouse-test-'));
  const configPath = path.join(dir, 'gatehouse.yaml');
  writeFileSync(configPath, toYaml(config));
  return { dir, configPath, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

/**
 * The usual test config: three real servers, an eager, a narrow and a lazy profile, two agents.
 * Server entries are copies: a test that changes its config (an idle timeout) must not change
 * the next test's.
 */
export function standardConfig(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    store: { kind: 'sqlite', path: 'state/gatehouse.db' },
    servers: {
      everything: structuredClone(SERVERS.everything),
      filesystem: structuredClone(SERVERS.filesystem),
      memory: { ...SERVERS.memory, env: { MEMORY_FILE_PATH: '${configDir}/memory.jsonl', GATEHOUSE_TEST_VISIBLE: 'yes' } },
    },
    profiles: {
      builder: { mode: 'eager', allow: ['everything/*', 'filesystem/*', 'memory/*'] },
      narrow: { mode: 'eager', allow: ['everything/echo', 'filesystem/read_*'] },
      research: { mode: 'lazy', allow: ['everything/*', 'filesystem/read_*', 'filesystem/list_*'] },
    },
    agents: {
      alice: { profiles: ['builder', 'research'], tokenEnv: 'TEST_TOKEN_ALICE' },
      bob: { profiles: ['narrow'], tokenEnv: 'TEST_TOKEN_BOB' },
    },
    ...overrides,
  };
}

export const TEST_ENV = { TEST_TOKEN_ALICE: TOKENS.alice, TEST_TOKEN_BOB: TOKENS.bob, GATEHOUSE_LOG_LEVEL: 'warn' };

export interface RunningGateway {
  url: string;
  process: ChildProcess;
  stop(): Promise<void>;
}

/**
 * Starts `gatehouse serve --port 0` as a real process and waits for its listening line; the
 * benchmarks' launcher, so that tests and benchmarks start and stop the gateway the same way.
 */
export async function startServe(configPath: string, env: Record<string, string> = {}, host?: '127.0.0.1' | '::1'): Promise<RunningGateway> {
  const serve = await startServeProcess({ config: configPath, env: { ...TEST_ENV, ...env }, timeoutMs: 15_000, ...(host ? { host } : {}) });
  return { url: serve.url, process: serve.child, stop: serve.stop };
}

export async function stopProcess(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
  await exited;
  clearTimeout(timer);
}

/** A real MCP client over streamable HTTP with a bearer token. */
export async function httpClient(
  url: string,
  profile: string,
  token: string,
  capabilities: ClientCapabilities = {},
): Promise<Client> {
  const client = new Client({ name: 'gatehouse-test', version: '1.0.0' }, { capabilities });
  const transport = new StreamableHTTPClientTransport(new URL(`${url}/mcp/${profile}`), { requestInit: { headers: { Authorization: `Bearer ${token}` } } });
  await client.connect(transport);
  keepNotificationsBeforeResponses(transport); // the SDK client has the same race as our downstream side
  return client;
}

/** A real MCP client that starts `gatehouse connect --profile P` as its stdio server. */
export async function stdioClient(configPath: string, profile: string, capabilities: ClientCapabilities = {}, extraArgs: string[] = []): Promise<{ client: Client; pid: number }> {
  const client = new Client({ name: 'gatehouse-test', version: '1.0.0' }, { capabilities });
  const transport = new StdioClientTransport({
    command: process.execPath,
    args: [CLI, 'connect', '--profile', profile, '--config', configPath, ...extraArgs],
    env: { ...TEST_ENV, PATH: process.env.PATH ?? '' },
    stderr: 'pipe',
  });
  await client.connect(transport);
  keepNotificationsBeforeResponses(transport);
  return { client, pid: transport.pid! };
}

/**
 * `gatehouse connect --profile P` on raw pipes, for tests that write bytes no SDK client would
 * (malformed lines, oversized ones, a reader that goes away). `stderr()` is everything it logged.
 */
export function rawConnect(configPath: string, profile: string): { child: ChildProcessWithoutNullStreams; stderr: () => string } {
  const child = spawn(process.execPath, [CLI, 'connect', '--profile', profile, '--config', configPath], {
    env: { ...TEST_ENV, PATH: process.env.PATH ?? '' },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  return { child, stderr: () => stderr };
}

/** Direct children of a process, with their command lines (the downstream servers of a gateway). */
export function childProcesses(pid: number): Array<{ pid: number; args: string }> {
  let out = '';
  try {
    out = execFileSync('ps', ['--ppid', String(pid), '-o', 'pid=,args='], { encoding: 'utf8' });
  } catch {
    return []; // ps exits 1 when there are none
  }
  return out
    .trim()
    .split('\n')
    .filter(Boolean)
    .map((line) => {
      const match = /^\s*(\d+)\s+(.*)$/.exec(line)!;
      return { pid: Number(match[1]), args: match[2]! };
    });
}

export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Polls until `check` is true or the time is up. */
export async function waitFor(check: () => boolean | Promise<boolean>, timeoutMs = 10_000, what = 'condition'): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (Date.now() < until) {
    if (await check()) return;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`timed out waiting for ${what}`);
}

/** Runs the CLI to completion. `stderr` is kept when it succeeds too (warnings). */
export function runCli(args: string[], env: Record<string, string> = {}): { status: number; stdout: string; stderr: string } {
  const result = spawnSync(process.execPath, [CLI, ...args], { env: { ...process.env, ...TEST_ENV, ...env }, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  if (result.error) throw result.error;
  return { status: result.status as number, stdout: result.stdout, stderr: result.stderr };
}

/** Text of the first content block of a tool result. */
export function text(result: unknown): string {
  const content = (result as { content?: Array<{ type: string; text?: string }> }).content ?? [];
  return content.map((block) => block.text ?? '').join('');
}

/** A tool result as the tests read it: content, the error flag and `_meta`. */
export interface ToolResult {
  isError?: boolean;
  content: Array<{ type: string; text?: string }>;
  _meta?: Record<string, unknown>;
}

/** The Gatehouse outcome of a held or refused call (`_meta.gatehouse`); fails the test when there is none. */
export function gatehouseOutcome(result: ToolResult): { code: string; message: string; data: Record<string, unknown> } {
  const meta = result._meta?.gatehouse as { code: string; message: string; data: Record<string, unknown> } | undefined;
  assert.ok(meta, `expected a Gatehouse outcome, got: ${text(result)}`);
  return meta;
}

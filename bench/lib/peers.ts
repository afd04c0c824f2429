import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { EVERYTHING_STDIO } from './everything.js';
import { connectSse, connectStreamableHttp } from './mcp-connect.js';
import { REPO_ROOT } from './paths.js';
import { assertLoopbackOnly, freePort } from './ports.js';
import { LOOPBACK_PRELOAD, startProcess, waitForHttp, type ManagedProcess } from './processes.js';
import type { Launcher } from './targets.js';
import { makeTempDir } from './temp-dir.js';

/** A peer package's installed version and the file its `bin` runs. */
export function peerPackage(name: string): { version: string; bin: string } {
  const dir = path.join(REPO_ROOT, 'node_modules', name);
  let text: string;
  try {
    text = readFileSync(path.join(dir, 'package.json'), 'utf8');
  } catch {
    throw new Error(`${name} is not installed in node_modules (it is a devDependency: run npm install)`);
  }
  const manifest = JSON.parse(text) as { version: string; bin: string | Record<string, string> };
  const bin = typeof manifest.bin === 'string' ? manifest.bin : (manifest.bin[name] ?? Object.values(manifest.bin)[0]!);
  return { version: manifest.version, bin: path.join(dir, bin) };
}

/**
 * mcp-proxy in its stdio → streamable HTTP mode (`--server stream`), on 127.0.0.1 via its own
 * `--host`. One upstream stdio connection shared by every session.
 */
export const mcpProxy: Launcher = async (cleanup) => {
  const { version, bin } = peerPackage('mcp-proxy');
  const port = await freePort();
  const args = ['--host', '127.0.0.1', '--port', String(port), '--server', 'stream', '--', EVERYTHING_STDIO.command, ...EVERYTHING_STDIO.args];
  const proxy = startProcess({ name: 'mcp-proxy', command: process.execPath, args: [bin, ...args], cleanup });
  const url = `http://127.0.0.1:${port}/mcp`;
  await waitForHttp(url, proxy);
  assertLoopbackOnly(port);
  return {
    name: `mcp-proxy ${version}`,
    transport: 'streamable HTTP',
    tool: 'echo',
    command: `mcp-proxy ${args.join(' ')}`,
    pid: proxy.child.pid,
    connect: () => connectStreamableHttp(url, cleanup),
    stop: proxy.stop,
  };
};

/**
 * supergateway, stdio → streamable HTTP, `--stateful` (one child per session; its stateless mode
 * spawns a fresh server for every request). It has no bind-address option: the loopback preload
 * keeps it on 127.0.0.1. `--logLevel none`, since at its default level it logs every message.
 */
export const supergateway: Launcher = async (cleanup) => {
  const { version, bin } = peerPackage('supergateway');
  const port = await freePort();
  const stdio = [EVERYTHING_STDIO.command, ...EVERYTHING_STDIO.args].map(shellQuote).join(' ');
  const args = ['--stdio', stdio, '--outputTransport', 'streamableHttp', '--stateful', '--port', String(port), '--logLevel', 'none'];
  const gateway = startProcess({ name: 'supergateway', command: process.execPath, args: ['--import', LOOPBACK_PRELOAD, bin, ...args], cleanup });
  const url = `http://127.0.0.1:${port}/mcp`;
  await waitForHttp(url, gateway);
  assertLoopbackOnly(port);
  return {
    name: `supergateway ${version}`,
    transport: 'streamable HTTP',
    tool: 'echo',
    command: `supergateway ${args.join(' ')}`,
    pid: gateway.child.pid,
    connect: () => connectStreamableHttp(url, cleanup),
    stop: gateway.stop,
  };
};

/**
 * mcp-hub with a one-server config; it serves its unified endpoint over HTTP+SSE at `/mcp` and
 * names tools `<server>__<tool>`. It listens on every interface (loopback preload) and keeps
 * logs, a workspace cache and a marketplace catalog under HOME / XDG folders, pointed at a temp
 * folder here. At start it downloads that catalog from the internet unless a fresh one is cached:
 * a one-entry catalog is seeded so that it sends nothing off the machine.
 */
export const mcpHub: Launcher = async (cleanup) => {
  const { version, bin } = peerPackage('mcp-hub');
  const home = makeTempDir('gatehouse-bench-mcp-hub');
  cleanup.add(home.remove);
  const config = path.join(home.path, 'mcp-hub.json');
  writeFileSync(config, JSON.stringify({ mcpServers: { everything: { command: EVERYTHING_STDIO.command, args: EVERYTHING_STDIO.args } } }));
  const port = await freePort();
  const args = ['--port', String(port), '--config', config];
  const xdg = { HOME: home.path, XDG_STATE_HOME: `${home.path}/state`, XDG_CONFIG_HOME: `${home.path}/config`, XDG_DATA_HOME: `${home.path}/data` };
  seedMarketplaceCache(path.join(xdg.XDG_DATA_HOME, 'mcp-hub/cache'));
  const hub = startProcess({ name: 'mcp-hub', command: process.execPath, args: ['--import', LOOPBACK_PRELOAD, bin, ...args], env: xdg, cleanup });
  await waitForHubReady(`http://127.0.0.1:${port}/api/health`, hub);
  assertLoopbackOnly(port);
  const url = `http://127.0.0.1:${port}/mcp`;
  return {
    name: `mcp-hub ${version}`,
    transport: 'SSE',
    tool: 'everything__echo',
    command: `mcp-hub --port ${port} --config <tmp>/mcp-hub.json`,
    pid: hub.child.pid,
    connect: () => connectSse(url, cleanup),
    stop: hub.stop,
  };
};

/** mcp-hub answers /api/health before its /mcp endpoint exists: wait for state "ready" and the server connected. */
async function waitForHubReady(healthUrl: string, hub: ManagedProcess, timeoutMs = 30_000): Promise<void> {
  await waitForHttp(healthUrl, hub, timeoutMs);
  const until = Date.now() + timeoutMs;
  let last = '';
  while (Date.now() < until) {
    const response = await fetch(healthUrl, { signal: AbortSignal.timeout(1_000) });
    const health = (await response.json()) as { state?: string; servers?: Array<{ name: string; status: string; error?: string | null }> };
    const everything = health.servers?.find((server) => server.name === 'everything');
    if (health.state === 'ready' && everything?.status === 'connected') return;
    last = `state ${health.state}, everything ${everything?.status ?? 'missing'}${everything?.error ? ` (${everything.error})` : ''}`;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`mcp-hub not ready within ${timeoutMs} ms: ${last}\n${hub.output()}`);
}

/** A fresh (for mcp-hub's one-hour TTL) catalog with one placeholder entry: an empty one counts as stale. */
function seedMarketplaceCache(dir: string): void {
  mkdirSync(dir, { recursive: true });
  const registry = { version: 'gatehouse-bench', generatedAt: Date.now(), totalServers: 1, servers: [{ id: 'placeholder', name: 'placeholder', description: 'seeded by the benchmark' }] };
  writeFileSync(path.join(dir, 'registry.json'), JSON.stringify({ registry, lastFetchedAt: Date.now(), serverDocumentation: {} }));
}

function shellQuote(word: string): string {
  return /^[\w@%+=:,./-]+$/.test(word) ? word : `'${word.replace(/'/g, `'\\''`)}'`;
}

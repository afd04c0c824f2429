import { fileURLToPath } from 'node:url';
import type { Cleanup } from './cleanup.js';
import { EVERYTHING_ENTRY, EVERYTHING_STDIO } from './everything.js';
import type { EverythingGateway } from './gatehouse-config.js';
import { startServe } from './gatehouse.js';
import { connectStdio, connectStreamableHttp, type McpConnection } from './mcp-connect.js';
import { CLI } from './paths.js';
import { assertLoopbackOnly, freePort } from './ports.js';
import { descendantsOf, killSurvivors } from './proc.js';
import { LOOPBACK_PRELOAD, startProcess, waitForHttp } from './processes.js';

/** One way of reaching server-everything's tools: directly, through Gatehouse, or through a peer. */
export interface Target {
  /** Row label, e.g. "gatehouse http". */
  name: string;
  transport: 'stdio' | 'streamable HTTP' | 'SSE';
  /** The name server-everything's `echo` has on this target (`everything__echo` behind a gateway). */
  tool: string;
  /** What was started, for the results file. */
  command: string;
  /** The server or proxy process the launcher started; stdio targets have theirs on the connection. */
  pid?: number;
  /** Opens one client session; for a stdio target this starts the process. */
  connect(): Promise<McpConnection>;
  /** Where an HTTP target answers, and the headers a client must send, for clients other than the SDK's. */
  http?: { url: string; headers: Record<string, string> };
  /** Stops what the launcher started (nothing for stdio targets); also registered with cleanup. */
  stop(): Promise<void>;
}

/** Starts whatever a target needs and returns it ready to connect to. */
export type Launcher = (cleanup: Cleanup) => Promise<Target>;

const nothing = async (): Promise<void> => undefined;

/** server-everything over stdio, spawned by the SDK client: the baseline. */
export const directStdio: Launcher = async (cleanup) => ({
  name: 'direct stdio',
  transport: 'stdio',
  tool: 'echo',
  command: `node ${EVERYTHING_STDIO.args.join(' ')}`,
  connect: () => connectStdio(EVERYTHING_STDIO, cleanup),
  stop: nothing,
});

/** server-everything behind one of the bench's own stdio proxies (`bench/lib/<script>`), run with node. */
function benchProxyStdio(script: string, name: string, tool: string, what: string): Launcher {
  const proxy = fileURLToPath(new URL(`./${script}`, import.meta.url));
  return async (cleanup) => ({
    name,
    transport: 'stdio',
    tool,
    command: `node bench/lib/${script} (${what} node ${EVERYTHING_STDIO.args.join(' ')})`,
    connect: () => connectStdio({ command: process.execPath, args: [proxy] }, cleanup),
    stop: nothing,
  });
}

/** server-everything behind a process that only copies bytes: what one extra stdio hop costs at least. */
export const bytePipeStdio = benchProxyStdio('byte-pipe-proxy.js', 'byte-pipe hop (floor)', 'echo', 'copies bytes to and from');

/** server-everything behind a bare SDK Server and Client: what the SDK's protocol layers alone cost on a hop. */
export const sdkProxyStdio = benchProxyStdio('sdk-proxy.js', 'SDK proxy (floor)', 'everything__echo', 'SDK Server and Client, nothing else, to');

/** server-everything's own streamable HTTP transport (it binds every interface: kept on loopback by the preload). */
export const directStreamableHttp: Launcher = async (cleanup) => {
  const port = await freePort();
  const server = startProcess({
    name: 'server-everything (streamableHttp)',
    command: process.execPath,
    args: ['--import', LOOPBACK_PRELOAD, EVERYTHING_ENTRY, 'streamableHttp'],
    env: { PORT: String(port) },
    cleanup,
  });
  const url = `http://127.0.0.1:${port}/mcp`;
  await waitForHttp(url, server);
  assertLoopbackOnly(port);
  return {
    name: 'direct streamable HTTP',
    transport: 'streamable HTTP',
    tool: 'echo',
    command: `PORT=${port} node ${EVERYTHING_ENTRY} streamableHttp`,
    pid: server.child.pid,
    connect: () => connectStreamableHttp(url, cleanup),
    stop: server.stop,
  };
};

/** Which CLI a Gatehouse target runs: this checkout's, or a baseline build to compare with in the same run. */
export interface GatehouseBuild {
  cli: string;
  /** Appended to the target's name, e.g. " (baseline)". */
  suffix: string;
}

const THIS_BUILD: GatehouseBuild = { cli: CLI, suffix: '' };

/** `gatehouse serve` on the temp config, at `<url>/mcp/<profile>` with the agent's bearer token. */
export function gatehouseHttp(gateway: EverythingGateway, build: GatehouseBuild = THIS_BUILD): Launcher {
  return async (cleanup) => {
    const serve = await startServe({ config: gateway.configPath, env: gateway.env, cleanup, cli: build.cli });
    // The downstream servers lead process groups of their own: stopping the gateway's group does
    // not reach them if the gateway dies without stopping them, so sweep them afterwards.
    let stopping: Promise<void> | undefined;
    const stop = () =>
      (stopping ??= (async () => {
        const descendants = serve.child.pid === undefined ? [] : descendantsOf(serve.child.pid);
        await serve.stop();
        killSurvivors(descendants);
      })());
    cleanup.add(stop);
    assertLoopbackOnly(Number(new URL(serve.url).port));
    const url = `${serve.url}/mcp/${gateway.profile}`;
    return {
      name: `gatehouse http${build.suffix}`,
      transport: 'streamable HTTP',
      tool: 'everything__echo',
      command: `gatehouse serve --config <tmp>/gatehouse.yaml --host 127.0.0.1 --port 0 (profile ${gateway.profile})`,
      pid: serve.child.pid,
      connect: () => connectStreamableHttp(url, cleanup, { Authorization: `Bearer ${gateway.token}` }),
      http: { url, headers: { Authorization: `Bearer ${gateway.token}` } },
      stop,
    };
  };
}

/** `gatehouse connect --profile P` as the stdio server, as a client's MCP config would start it. */
export function gatehouseStdio(gateway: EverythingGateway, build: GatehouseBuild = THIS_BUILD): Launcher {
  return async (cleanup) => ({
    name: `gatehouse stdio${build.suffix}`,
    transport: 'stdio',
    tool: 'everything__echo',
    command: `gatehouse connect --profile ${gateway.profile} --config <tmp>/gatehouse.yaml`,
    connect: () =>
      connectStdio({ command: process.execPath, args: [build.cli, 'connect', '--profile', gateway.profile, '--config', gateway.configPath], env: gateway.env }, cleanup),
    stop: nothing,
  });
}

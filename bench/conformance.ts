/**
 * MCP conformance: the server scenarios of @modelcontextprotocol/conformance, run (a) directly
 * against the fixture server (test/fixtures/conformance-server.ts) over streamable HTTP, then
 * (b) through `gatehouse serve` fronting that fixture. Run with `npm run conformance`; see
 * docs/conformance.md. Exit 0 only when both runs pass every check.
 *
 *   --downstream stdio|http   how the gateway reaches the fixture (default stdio: it spawns it)
 *   --scenario NAME           one scenario instead of the suite
 *   --suite active|all|pending  (default active, the suite's own default)
 *   --verbose                 also print the suite's full output and the gateway's stderr
 *
 * The suite's CLI has no option for request headers, and the gateway wants a bearer token, so
 * (b) goes through a loopback proxy that adds `Authorization` and changes nothing else; the
 * gateway config allows the proxy's Host and Origin (http.allowedHosts/allowedOrigins).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, request as httpRequest } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { toYaml } from '../src/config/yaml.js';
import { Cleanup } from './lib/cleanup.js';
import { startServe } from './lib/gatehouse.js';
import { REPO_ROOT } from './lib/paths.js';
import { makeTempDir } from './lib/temp-dir.js';

const SUITE_PACKAGE = path.join(REPO_ROOT, 'node_modules/@modelcontextprotocol/conformance');
const SUITE_CLI = path.join(SUITE_PACKAGE, 'dist/index.js');
const FIXTURE = path.join(REPO_ROOT, 'dist/test/fixtures/conformance-server.js');
const PROFILE = 'conformance';
const TOKEN_ENV = 'GATEHOUSE_CONFORMANCE_TOKEN';
const SUITE_TIMEOUT_MS = 5 * 60 * 1000;

interface Options {
  downstream: 'stdio' | 'http';
  scenario?: string;
  suite: string;
  verbose: boolean;
}

interface Check {
  id: string;
  name: string;
  status: 'SUCCESS' | 'FAILURE' | 'WARNING' | 'INFO' | string;
  errorMessage?: string;
}

interface ScenarioResult {
  scenario: string;
  checks: Check[];
}

interface SuiteRun {
  scenarios: ScenarioResult[];
  passed: number;
  failed: number;
  /** The suite's own "Total: N passed, M failed" line, when it printed one. */
  totalLine?: string;
  exitCode: number | null;
  timedOut: boolean;
}

async function main(): Promise<number> {
  const options = parseArgs(process.argv.slice(2));
  for (const file of [SUITE_CLI, FIXTURE]) {
    if (!existsSync(file)) throw new Error(`${path.relative(REPO_ROOT, file)} is missing (npm install; npm run build)`);
  }
  const suiteVersion = (JSON.parse(readFileSync(path.join(SUITE_PACKAGE, 'package.json'), 'utf8')) as { version: string }).version;
  const what = options.scenario ? `scenario ${options.scenario}` : `server suite "${options.suite}"`;
  console.log(`MCP conformance (@modelcontextprotocol/conformance ${suiteVersion}), ${what}`);

  const cleanup = new Cleanup();
  try {
    const temp = makeTempDir('gatehouse-conformance');
    cleanup.add(temp.remove);

    // (a) the fixture on its own
    const fixture = await startTracked(process.execPath, [FIXTURE, '--port', '0'], /listening on (http:\/\/\S+)/, 'conformance fixture', cleanup);
    console.log(`\n(a) direct: the fixture over streamable HTTP at ${fixture.url}`);
    const direct = await runSuite(fixture.url, path.join(temp.path, 'results-direct'), options, cleanup);
    report(direct);
    if (!passedAll(direct)) console.log('The direct run failed: the fixture itself does not conform, so the gateway figures say little.');

    // (b) the same fixture behind gatehouse serve
    const token = randomBytes(24).toString('hex');
    const proxy = await startBearerProxy(token);
    cleanup.add(proxy.close);
    const configPath = path.join(temp.path, 'gatehouse.yaml');
    const downstream = options.downstream === 'http' ? { url: fixture.url } : { command: process.execPath, args: [FIXTURE, '--stdio'] };
    writeFileSync(configPath, toYaml(gatewayConfig(downstream, proxy.port)));
    const serve = await startServe({ config: configPath, env: { [TOKEN_ENV]: token, GATEHOUSE_LOG_LEVEL: 'warn' }, cleanup });
    let gatewayStderr = '';
    serve.child.stderr!.on('data', (chunk: Buffer) => {
      gatewayStderr = (gatewayStderr + chunk.toString()).slice(-20_000);
    });
    proxy.forwardTo(serve.url);
    const url = `http://127.0.0.1:${proxy.port}/mcp/${PROFILE}`;
    console.log(
      `\n(b) gateway: gatehouse serve at ${serve.url}, profile "${PROFILE}" (eager, names: plain), fixture as a ${options.downstream} server;` +
        `\n    the suite talks to ${url}, a proxy that adds the bearer token`,
    );
    const gateway = await runSuite(url, path.join(temp.path, 'results-gateway'), options, cleanup);
    if (options.verbose && gatewayStderr.trim()) console.log(`\n--- gatehouse serve stderr ---\n${gatewayStderr.trimEnd()}\n---`);
    report(gateway);

    return passedAll(direct) && passedAll(gateway) ? 0 : 1;
  } finally {
    await cleanup.run();
  }
}

function passedAll(run: SuiteRun): boolean {
  return run.failed === 0 && run.exitCode === 0 && !run.timedOut;
}

function parseArgs(argv: readonly string[]): Options {
  const options: Options = { downstream: 'stdio', suite: 'active', verbose: false };
  for (let i = 0; i < argv.length; i += 1) {
    const arg = argv[i]!;
    const value = () => {
      const next = argv[++i];
      if (next === undefined) throw new Error(`${arg} needs a value`);
      return next;
    };
    if (arg === '--verbose') options.verbose = true;
    else if (arg === '--scenario') options.scenario = value();
    else if (arg === '--suite') options.suite = value();
    else if (arg === '--downstream') {
      const downstream = value();
      if (downstream !== 'stdio' && downstream !== 'http') throw new Error(`--downstream: "${downstream}" is not stdio or http`);
      options.downstream = downstream;
    } else throw new Error(`unknown argument "${arg}" (see the header of bench/conformance.ts)`);
  }
  return options;
}

/** A throwaway gateway config: one profile with plain names over the fixture, one agent. */
function gatewayConfig(fixture: Record<string, unknown>, proxyPort: number): Record<string, unknown> {
  const proxyHosts = ['127.0.0.1', 'localhost'].map((name) => `${name}:${proxyPort}`);
  return {
    store: { kind: 'sqlite', path: 'state/gatehouse.db' },
    http: { allowedHosts: proxyHosts, allowedOrigins: proxyHosts.map((host) => `http://${host}`) },
    // The suite checks the protocol, not governance: its fixture tools run ungated (G0 by config).
    servers: { fixture: { domain: 'conformance', ...fixture, tools: { '*': { gate: 'G0' } } } },
    profiles: { [PROFILE]: { mode: 'eager', names: 'plain', allow: ['fixture/*'] } },
    agents: { 'conformance-suite': { profiles: [PROFILE], tokenEnv: TOKEN_ENV } },
  };
}

/** Runs the suite's CLI against one URL; results come from the checks.json files it writes. */
async function runSuite(url: string, outputDir: string, options: Options, cleanup: Cleanup): Promise<SuiteRun> {
  const selection = options.scenario ? ['--scenario', options.scenario] : ['--suite', options.suite];
  const child = spawn(process.execPath, [SUITE_CLI, 'server', '--url', url, '--output-dir', outputDir, ...selection], {
    cwd: path.dirname(outputDir),
    env: { ...process.env, NO_COLOR: '1' },
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  const stop = stopper(child);
  cleanup.add(stop);
  let output = '';
  const collect = (chunk: Buffer) => {
    output += chunk.toString();
    if (options.verbose) process.stdout.write(chunk);
  };
  child.stdout!.on('data', collect);
  child.stderr!.on('data', collect);
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    void stop();
  }, SUITE_TIMEOUT_MS);
  const exitCode = await new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  clearTimeout(timer);
  if (cleanup.signal.aborted) throw new Error('interrupted');

  const scenarios = readResults(outputDir);
  const count = (status: string) => scenarios.reduce((n, s) => n + s.checks.filter((c) => c.status === status).length, 0);
  const totalLine = /^Total: \d+ passed, \d+ failed.*$/m.exec(output)?.[0];
  if (exitCode !== 0 && scenarios.length === 0 && !options.verbose) console.log(output.trimEnd());
  if (timedOut) console.log(`the suite did not finish within ${SUITE_TIMEOUT_MS / 1000} s and was stopped`);
  return { scenarios, passed: count('SUCCESS'), failed: count('FAILURE'), totalLine, exitCode, timedOut };
}

/** `<dir>/server-<scenario>-<timestamp>/checks.json`, one folder per scenario, in run order. */
function readResults(outputDir: string): ScenarioResult[] {
  if (!existsSync(outputDir)) return [];
  return readdirSync(outputDir, { withFileTypes: true })
    .filter((entry) => entry.isDirectory())
    .map((entry) => ({ entry, match: /^server-(.+)-(\d{4}-\d{2}-\d{2}T[\d-]+Z)$/.exec(entry.name) }))
    .filter(({ match }) => match !== null)
    .sort((a, b) => a.match![2]!.localeCompare(b.match![2]!))
    .map(({ entry, match }) => ({
      scenario: match![1]!,
      checks: JSON.parse(readFileSync(path.join(outputDir, entry.name, 'checks.json'), 'utf8')) as Check[],
    }));
}

/** One line per scenario as the suite prints them, failed checks under theirs, the total last. */
function report(run: SuiteRun): void {
  for (const { scenario, checks } of run.scenarios) {
    const passed = checks.filter((c) => c.status === 'SUCCESS').length;
    const failed = checks.filter((c) => c.status === 'FAILURE');
    const warnings = checks.filter((c) => c.status === 'WARNING');
    const extra = warnings.length > 0 ? `, ${warnings.length} warning${warnings.length > 1 ? 's' : ''}` : '';
    console.log(`${failed.length === 0 ? '✓' : '✗'} ${scenario}: ${passed} passed, ${failed.length} failed${extra}`);
    for (const check of [...failed, ...warnings]) console.log(`    ${check.status} ${check.name}: ${check.errorMessage ?? check.id}`);
  }
  const computed = `Total: ${run.passed} passed, ${run.failed} failed`;
  if (run.totalLine && !run.totalLine.startsWith(computed)) console.log(`(the suite itself printed "${run.totalLine}")`);
  console.log(computed);
}

/**
 * A loopback HTTP proxy that adds `Authorization: Bearer <token>` to every request and passes
 * everything else through unchanged, Host and Origin included (the DNS-rebinding scenario sends
 * a foreign Host on purpose). Responses, SSE streams included, are piped back as they come.
 */
async function startBearerProxy(token: string): Promise<{ port: number; forwardTo(url: string): void; close(): Promise<void> }> {
  let target: URL | undefined;
  const server = createServer((req, res) => {
    if (!target) {
      res.writeHead(503).end();
      return;
    }
    const upstream = httpRequest(
      { host: target.hostname, port: target.port, method: req.method, path: req.url, headers: { ...req.headers, authorization: `Bearer ${token}` } },
      (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        res.flushHeaders();
        answer.pipe(res);
      },
    );
    upstream.on('error', () => {
      if (!res.headersSent) res.writeHead(502).end();
      else res.destroy();
    });
    res.on('close', () => upstream.destroy()); // the client went away (or the answer is complete)
    req.pipe(upstream);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  return {
    port: (server.address() as AddressInfo).port,
    forwardTo: (url) => {
      target = new URL(url);
    },
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** Spawns a process in its own group and waits for the stdout line that carries its URL. */
async function startTracked(command: string, args: string[], listening: RegExp, label: string, cleanup: Cleanup): Promise<{ url: string }> {
  const child = spawn(command, args, { cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  cleanup.add(stopper(child));
  let stderr = '';
  child.stderr!.on('data', (chunk: Buffer) => (stderr = (stderr + chunk.toString()).slice(-4000)));
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${label} did not start within 15 s\n${stderr}`)), 15_000);
    child.once('exit', (code, signal) => reject(new Error(`${label} exited (${signal ?? code}) before listening\n${stderr}`)));
    createInterface({ input: child.stdout! }).on('line', (line) => {
      const match = listening.exec(line);
      if (match) {
        clearTimeout(timer);
        resolve(match[1]!);
      }
    });
  });
  return { url };
}

/** SIGTERM to the child's process group, SIGKILL to what is left after a grace period; idempotent. */
function stopper(child: ChildProcess, graceMs = 5_000): () => Promise<void> {
  const exited = new Promise<void>((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) resolve();
    else child.once('exit', () => resolve());
  });
  const signal = (name: NodeJS.Signals) => {
    try {
      if (child.pid !== undefined) process.kill(-child.pid, name);
    } catch {
      // the group is already gone
    }
  };
  let stopping: Promise<void> | undefined;
  return () =>
    (stopping ??= (async () => {
      signal('SIGTERM');
      await Promise.race([exited, new Promise((resolve) => setTimeout(resolve, graceMs).unref())]);
      signal('SIGKILL');
      await exited;
    })());
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    console.error(error instanceof Error ? (error.stack ?? error.message) : error);
    process.exitCode = 1;
  },
);

import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { promisify } from 'node:util';
import type { Cleanup } from './cleanup.js';
import { CLI, REPO_ROOT } from './paths.js';
import { descendantsOf, killSurvivors } from './proc.js';

const execFileAsync = promisify(execFile);

/**
 * Runs one `gatehouse` command to completion from the repository root; returns its stdout.
 * `signal` stops it early (SIGTERM), e.g. when the benchmark is interrupted.
 */
export async function runGatehouse(args: readonly string[], env: Record<string, string>, signal?: AbortSignal): Promise<string> {
  try {
    const { stdout } = await execFileAsync(process.execPath, [CLI, ...args], {
      cwd: REPO_ROOT,
      env: { ...process.env, ...env },
      maxBuffer: 16 * 1024 * 1024,
      signal,
    });
    return stdout;
  } catch (error) {
    const failed = error as Error & { stdout?: string; stderr?: string };
    throw new Error(`gatehouse ${args.join(' ')} failed: ${failed.message}\n${failed.stdout ?? ''}${failed.stderr ?? ''}`);
  }
}

/** A running `gatehouse serve`. */
export interface ServeProcess {
  /** Base URL from the listening line, e.g. http://127.0.0.1:40123. */
  url: string;
  child: ChildProcess;
  /** performance.now() just before spawn, for timing cold starts from the very beginning. */
  spawnedAt: number;
  /** performance.now() when the listening line arrived. */
  listeningAt: number;
  /** Stops the gateway and everything it started; safe to call twice. */
  stop(): Promise<void>;
}

export interface ServeOptions {
  config: string;
  env: Record<string, string>;
  /** How long to wait for the listening line. */
  timeoutMs?: number;
  /** Registers stop() the moment the process exists, so an interruption while waiting still stops it. */
  cleanup?: Cleanup;
  /** Another build of the CLI (e.g. a baseline commit's dist/gatehouse.mjs); default this one. */
  cli?: string;
  /** A loopback address to listen on; default 127.0.0.1. */
  host?: '127.0.0.1' | '::1';
}

const LISTENING = /^gatehouse listening on (http:\/\/\S+)/;

/**
 * Spawns `gatehouse serve --port 0 --quiet` on loopback and waits for its listening line.
 * The child leads its own process group so that stop() reaches it even if it hangs on shutdown;
 * its downstream servers (in groups of their own) are found and stopped through /proc.
 */
export async function startServe(options: ServeOptions): Promise<ServeProcess> {
  if (options.cleanup?.signal.aborted) throw new Error('not starting gatehouse serve: the benchmark is shutting down');
  const args = [options.cli ?? CLI, 'serve', '--config', options.config, '--host', options.host ?? '127.0.0.1', '--port', '0', '--quiet'];
  const spawnedAt = performance.now();
  const child = spawn(process.execPath, args, {
    cwd: REPO_ROOT,
    env: { GATEHOUSE_LOG_LEVEL: 'warn', ...process.env, ...options.env },
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const stop = once(() => stopGroup(child, exited));
  options.cleanup?.add(stop);

  // Keep the end of stderr: it is the only explanation when serve dies before listening.
  let stderrTail = '';
  child.stderr!.on('data', (chunk: Buffer) => {
    stderrTail = (stderrTail + chunk.toString()).slice(-4000);
  });

  try {
    const url = await waitForListening(child, options.timeoutMs ?? 30_000, () => stderrTail);
    return { url, child, spawnedAt, listeningAt: performance.now(), stop };
  } catch (error) {
    await stop();
    throw error;
  }
}

function waitForListening(child: ChildProcess, timeoutMs: number, stderr: () => string): Promise<string> {
  return new Promise((resolve, reject) => {
    const lines = createInterface({ input: child.stdout! });
    const timer = setTimeout(() => finish(new Error(`gatehouse serve did not listen within ${timeoutMs} ms\n${stderr()}`)), timeoutMs);
    const onExit = (code: number | null, signal: NodeJS.Signals | null) =>
      finish(new Error(`gatehouse serve exited (${signal ?? code}) before listening\n${stderr()}`));
    function finish(result: string | Error): void {
      clearTimeout(timer);
      child.off('exit', onExit);
      lines.off('line', onLine);
      if (typeof result === 'string') resolve(result);
      else reject(result);
    }
    function onLine(line: string): void {
      const match = LISTENING.exec(line);
      if (match) finish(match[1]!);
    }
    lines.on('line', onLine);
    child.once('exit', onExit);
  });
}

/**
 * SIGTERM to the group (graceful shutdown), SIGKILL to whatever is left after a grace period.
 * The gateway starts each downstream server in a process group of its own, so those are found
 * through /proc before the stop and killed afterwards if the gateway left any behind.
 */
async function stopGroup(child: ChildProcess, exited: Promise<void>, graceMs = 5_000): Promise<void> {
  const pid = child.pid;
  if (pid === undefined) return;
  const descendants = descendantsOf(pid);
  if (child.exitCode === null && child.signalCode === null) {
    signalGroup(pid, 'SIGTERM');
    await Promise.race([exited, new Promise((resolve) => setTimeout(resolve, graceMs).unref())]);
  }
  // Also after a clean exit: a helper that ignored its stop would still be in the group.
  signalGroup(pid, 'SIGKILL');
  await exited;
  killSurvivors(descendants);
}

function signalGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ESRCH') throw error;
  }
}

function once(fn: () => Promise<void>): () => Promise<void> {
  let running: Promise<void> | undefined;
  return () => (running ??= fn());
}

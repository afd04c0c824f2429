import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Cleanup } from './cleanup.js';
import { REPO_ROOT } from './paths.js';
import { descendantsOf, killSurvivors, signal } from './proc.js';

/** The compiled ./loopback-only.ts preload, for `node --import` on servers without a host option. */
export const LOOPBACK_PRELOAD = path.join(path.dirname(fileURLToPath(import.meta.url)), 'loopback-only.js');

/** A process started by startProcess(). */
export interface ManagedProcess {
  child: ChildProcess;
  /** The last 4,000 characters of stderr (and stdout), for error messages. */
  output(): string;
  /** Stops the process group and any escaped descendant; safe to call twice. */
  stop(): Promise<void>;
}

export interface StartProcessOptions {
  /** For messages, e.g. "supergateway". */
  name: string;
  command: string;
  args: readonly string[];
  /** Added to this process's environment. */
  env?: Record<string, string>;
  cleanup: Cleanup;
}

/**
 * Spawns a long-running helper (a server, a proxy) as the leader of its own process group, from
 * the repository root, and registers its stop() with `cleanup` at once, so an interruption at any
 * later point still stops it. Output is drained (a full pipe would block the child) and its tail
 * kept.
 */
export function startProcess(options: StartProcessOptions): ManagedProcess {
  if (options.cleanup.signal.aborted) throw new Error(`not starting ${options.name}: the benchmark is shutting down`);
  const child = spawn(options.command, options.args, {
    cwd: REPO_ROOT,
    env: { ...process.env, ...options.env },
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  let tail = '';
  const keep = (chunk: Buffer) => {
    tail = (tail + chunk.toString()).slice(-4000);
  };
  child.stdout!.on('data', keep);
  child.stderr!.on('data', keep);
  child.on('error', (error) => keep(Buffer.from(`spawn failed: ${error.message}\n`)));
  const stop = onceAsync(() => stopTree(child));
  options.cleanup.add(stop);
  return { child, output: () => tail, stop };
}

/**
 * SIGTERM to the process group, SIGKILL to what is left after `graceMs`, then SIGKILL to every
 * descendant seen before the stop that is still alive: some servers put their own children in
 * process groups of their own (Gatehouse and supergateway do), and those would otherwise outlive
 * a helper that died without stopping them.
 */
export async function stopTree(child: ChildProcess, graceMs = 5_000): Promise<void> {
  const pid = child.pid;
  if (pid === undefined) return;
  const exited = new Promise<void>((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) resolve();
    else child.once('exit', () => resolve());
  });
  const descendants = descendantsOf(pid);
  if (child.exitCode === null && child.signalCode === null) {
    signal(-pid, 'SIGTERM');
    await Promise.race([exited, delay(graceMs)]);
  }
  signal(-pid, 'SIGKILL');
  await exited;
  killSurvivors(descendants);
}

/**
 * Polls `url` until the server answers at all (any status): the proxies print their "listening"
 * lines before, or without, really listening. Fails early if the process exits.
 */
export async function waitForHttp(url: string, server: ManagedProcess, timeoutMs = 30_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (Date.now() < until) {
    if (server.child.exitCode !== null || server.child.signalCode !== null) {
      throw new Error(`exited (${server.child.signalCode ?? server.child.exitCode}) before answering on ${url}\n${server.output()}`);
    }
    try {
      const response = await fetch(url, { signal: AbortSignal.timeout(1_000) });
      await response.body?.cancel();
      return;
    } catch {
      await delay(100);
    }
  }
  throw new Error(`no answer on ${url} within ${timeoutMs} ms\n${server.output()}`);
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms).unref());
}

function onceAsync(fn: () => Promise<void>): () => Promise<void> {
  let running: Promise<void> | undefined;
  return () => (running ??= fn());
}

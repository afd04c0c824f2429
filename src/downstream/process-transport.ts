import { spawn, type ChildProcess } from 'node:child_process';
import { ReadBuffer, serializeMessage } from '@modelcontextprotocol/sdk/shared/stdio.js';
import type { Transport } from '@modelcontextprotocol/sdk/shared/transport.js';
import type { JSONRPCMessage } from '@modelcontextprotocol/sdk/types.js';

export interface ProcessTransportOptions {
  command: string;
  args: readonly string[];
  env: Record<string, string>;
  cwd: string | undefined;
  onStderr(chunk: Buffer): void;
}

export interface ProcessExit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

const GRACE_MS = 1_000;

/**
 * MCP over a child's stdin/stdout, like the SDK's StdioClientTransport, but the child leads
 * its own process group and is stopped as a group. Servers started through `npx`, `uvx` or a
 * shell script are grandchildren of the gateway; killing only the direct child (as the SDK
 * does) leaves them running forever.
 */
export class ProcessTransport implements Transport {
  onclose?: () => void;
  onerror?: (error: Error) => void;
  onmessage?: (message: JSONRPCMessage) => void;
  private child: ChildProcess | undefined;
  private readonly buffer = new ReadBuffer();
  private exited: Promise<void> | undefined;
  private exitInfo: ProcessExit | undefined;

  constructor(private readonly options: ProcessTransportOptions) {}

  get pid(): number | undefined {
    return this.child?.pid;
  }

  /** How the process ended, once it has. */
  get exit(): ProcessExit | undefined {
    return this.exitInfo;
  }

  start(): Promise<void> {
    return new Promise((resolve, reject) => {
      const child = spawn(this.options.command, [...this.options.args], {
        env: this.options.env,
        cwd: this.options.cwd,
        stdio: ['pipe', 'pipe', 'pipe'],
        detached: true, // its own process group, see the class comment
        windowsHide: true,
      });
      this.child = child;
      this.exited = new Promise((done) => {
        child.once('close', (code, signal) => {
          this.exitInfo = { code, signal };
          done();
          this.onclose?.();
        });
      });
      child.once('error', (error) => {
        reject(error);
        this.onerror?.(error);
      });
      child.once('spawn', () => resolve());
      child.stdout!.on('data', (chunk: Buffer) => {
        this.buffer.append(chunk);
        this.drainMessages();
      });
      child.stderr!.on('data', (chunk: Buffer) => this.options.onStderr(chunk));
      child.stdin!.on('error', (error) => this.onerror?.(error));
    });
  }

  send(message: JSONRPCMessage): Promise<void> {
    const stdin = this.child?.stdin;
    if (!stdin || stdin.destroyed) return Promise.reject(new Error('the server process is not running'));
    return new Promise((resolve) => {
      if (stdin.write(serializeMessage(message))) resolve();
      else stdin.once('drain', () => resolve());
    });
  }

  /** Closes stdin (the polite way to ask an MCP server to exit), then SIGTERM, then SIGKILL, to the whole group. */
  async close(): Promise<void> {
    const child = this.child;
    if (!child || !this.exited) return;
    child.stdin?.end();
    if (await this.exitsWithin(GRACE_MS)) return this.killGroup('SIGKILL'); // leftovers of the group, if any
    this.killGroup('SIGTERM');
    if (await this.exitsWithin(GRACE_MS)) return this.killGroup('SIGKILL');
    this.killGroup('SIGKILL');
    await this.exited;
  }

  private drainMessages(): void {
    for (;;) {
      let message: JSONRPCMessage | null;
      try {
        message = this.buffer.readMessage();
      } catch (error) {
        this.onerror?.(error as Error); // one bad line must not stop the rest
        continue;
      }
      if (message === null) return;
      this.onmessage?.(message);
    }
  }

  private async exitsWithin(ms: number): Promise<boolean> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<false>((resolve) => (timer = setTimeout(() => resolve(false), ms)));
    const done = await Promise.race([this.exited!.then(() => true as const), timeout]);
    clearTimeout(timer);
    return done;
  }

  private killGroup(signal: NodeJS.Signals): void {
    const pid = this.child?.pid;
    if (pid === undefined) return;
    try {
      process.kill(-pid, signal);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ESRCH') this.onerror?.(error as Error);
    }
  }
}

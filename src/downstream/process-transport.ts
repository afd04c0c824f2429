import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { serializeMessage } from '@modelcontextprotocol/sdk/shared/stdio.js';
import type { Transport } from '@modelcontextprotocol/sdk/shared/transport.js';
import type { JSONRPCMessage, RequestId } from '@modelcontextprotocol/sdk/types.js';
import { isRequestId, JsonLineSplitter, trailingIdOf, type OversizedLine } from './json-lines.js';
import { verdictResponse } from './transport-verdicts.js';
import { jsonRpcMessageOf } from './json-rpc-message.js';

export interface ProcessTransportOptions {
  command: string;
  args: readonly string[];
  env: Record<string, string>;
  cwd: string | undefined;
  /** Longest message the server may send; a longer one fails the request it answers (GH_RESULT_TOO_LARGE). */
  maxMessageBytes: number;
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
  private readonly lines: JsonLineSplitter;
  private exited: Promise<void> | undefined;
  private exitInfo: ProcessExit | undefined;

  constructor(private readonly options: ProcessTransportOptions) {
    this.lines = new JsonLineSplitter(
      options.maxMessageBytes,
      (line) => this.receiveLine(line),
      (line) => this.receiveOversized(line),
    );
  }

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
      child.once('error', (error: NodeJS.ErrnoException) => {
        // spawn says ENOENT for a missing cwd too, naming the command: say which one is missing.
        if (error.code === 'ENOENT' && this.options.cwd !== undefined && !existsSync(this.options.cwd)) {
          error = Object.assign(new Error(`its cwd ${this.options.cwd} does not exist`), { code: 'ENOENT' });
        }
        reject(error);
        this.onerror?.(error);
      });
      child.once('spawn', () => resolve());
      child.stdout!.on('data', (chunk: Buffer) => this.lines.push(chunk));
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

  /**
   * One line from the server. A line that is JSON with the id of a request but not a valid
   * JSON-RPC message fails that request at once (GH_DOWNSTREAM_INVALID) rather than leaving it to
   * time out; anything else that is not a message is reported and skipped: one bad line must not
   * stop the rest.
   */
  private receiveLine(line: string): void {
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch {
      this.onerror?.(new Error(`the server wrote a line that is not JSON: ${line.slice(0, 200)}`));
      return;
    }
    const message = jsonRpcMessageOf(value);
    if (message) return this.onmessage?.(message);
    const id = responseIdOf(value);
    if (id === undefined) {
      this.onerror?.(new Error(`the server wrote JSON that is not a JSON-RPC message: ${line.slice(0, 200)}`));
      return;
    }
    this.onmessage?.(
      verdictResponse(id, {
        code: 'GH_DOWNSTREAM_INVALID',
        message: `the server answered with a message that is not valid JSON-RPC 2.0: ${line.slice(0, 200)}`,
        data: {},
      }),
    );
  }

  /** A message over the limit: if its end names the request it answers (as JSON-RPC responses put `id` last), that request fails. */
  private receiveOversized(line: OversizedLine): void {
    const id = trailingIdOf(line.tail);
    const limit = this.options.maxMessageBytes;
    if (id === undefined) {
      this.onerror?.(new Error(`the server wrote a message of ${line.bytes} bytes, over the limit of ${limit}; it was dropped`));
      return;
    }
    this.onmessage?.(
      verdictResponse(id, {
        code: 'GH_RESULT_TOO_LARGE',
        message: `the server's answer has ${line.bytes} bytes, over the limit of ${limit} bytes (maxResultBytes); it was dropped`,
        data: { bytes: line.bytes, limitBytes: limit },
      }),
    );
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

/** The id of something that looks like a response (an id, no method). */
function responseIdOf(value: unknown): RequestId | undefined {
  if (value === null || typeof value !== 'object' || Array.isArray(value) || 'method' in value) return undefined;
  const id = (value as { id?: unknown }).id;
  return isRequestId(id) ? id : undefined;
}

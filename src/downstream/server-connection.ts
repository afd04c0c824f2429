import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { getDefaultEnvironment } from '@modelcontextprotocol/sdk/client/stdio.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type { RequestOptions } from '@modelcontextprotocol/sdk/shared/protocol.js';
import type { Transport } from '@modelcontextprotocol/sdk/shared/transport.js';
import {
  CreateMessageRequestSchema,
  ElicitRequestSchema,
  ErrorCode,
  McpError,
  ListRootsRequestSchema,
  LoggingMessageNotificationSchema,
  PromptListChangedNotificationSchema,
  ResourceListChangedNotificationSchema,
  ResourceUpdatedNotificationSchema,
  ToolListChangedNotificationSchema,
  type ClientCapabilities,
  type LoggingMessageNotification,
  type Request,
  type Result,
} from '@modelcontextprotocol/sdk/types.js';
import type { z } from 'zod';
import { GatehouseError } from '../core/errors.js';
import { isStdioServer, type ServerConfig } from '../config/schema.js';
import type { ServerListing } from '../ports/schema-cache.js';
import { sharedJsonSchemaValidator } from './json-schema-validator.js';
import { fetchListing } from './listing.js';
import { freshSignalFetch } from './fresh-signal-fetch.js';
import { StderrTail } from './stderr-tail.js';
import { ProcessTransport } from './process-transport.js';
import { keepNotificationsBeforeResponses } from './notification-order.js';
import { dispatchByShape } from './dispatch-by-shape.js';
import { DirectRequests } from './direct-requests.js';
import { CallerRegistry, type DownstreamCaller } from './caller-registry.js';
import { markIncident } from './incidents.js';
import { cancellationOf, type Cancellation } from '../core/cancellation.js';

/** `failed`: it crashed maxConsecutiveCrashes times in a row; it is started again only after its backoff. */
export type ServerState = 'stopped' | 'starting' | 'running' | 'crashed' | 'failed';

/** What an operator sees of one server (`gatehouse servers`). */
export interface ServerStatus {
  state: ServerState;
  pid: number | null;
  callsInFlight: number;
  consecutiveCrashes: number;
  lastCrashAt: string | null;
  /** When a crashed or failed server may be started again (a call before then waits, or fails fast when failed). */
  nextStartAt: string | null;
  stderrTail: string[];
}

/** What the connection tells its owner; the owner records events and refreshes the cache. */
export interface ServerConnectionHooks {
  started(server: string, info: { pid?: number | undefined; startMs: number }): void;
  stopped(server: string, reason: 'idle' | 'shutdown'): void;
  crashed(server: string, info: { pid?: number | undefined; stderrTail: string[]; consecutiveCrashes: number }): void;
  /** Awaited before a start completes: the listing is stored and its tools pinned before any call uses the server. */
  listed(server: string, listing: ServerListing): Promise<void>;
  /** It crashed maxConsecutiveCrashes times in a row: calls fail fast until `nextStartAt`. */
  failed(server: string, info: { stderrTail: string[]; consecutiveCrashes: number; nextStartAt: string }): void;
  /** A log message that arrived outside any call, or while several sessions had calls in flight. */
  logDropped(server: string, params: LoggingMessageNotification['params']): void;
  resourceUpdated(server: string, uri: string): void;
}

export interface ServerSettings {
  idleTimeoutMs: number;
  callTimeoutMs: number;
  startTimeoutMs: number;
  restartBackoffMs: number;
  restartBackoffMaxMs: number;
  maxConsecutiveCrashes: number;
  /** Longest message a stdio server may write (its largest result plus the envelope). */
  maxMessageBytes: number;
  /** Applied to each stderr line before it is kept (removes the config's secret values). */
  scrubStderr?: (line: string) => string;
}

/** Lines of a crashed server's stderr kept in events and errors. */
const STDERR_LINES_REPORTED = 20;

/**
 * One downstream MCP server: started on first use, stopped after its idle timeout,
 * restarted with exponential backoff after a crash, marked failed after too many crashes in a
 * row (then calls fail fast until the backoff has passed, and the next one probes a start). One connection is shared by every
 * agent; server-to-client requests (elicitation, sampling, roots) are routed to the caller
 * whose call is in flight.
 */
export class ServerConnection {
  private client: Client | undefined;
  private starting: Promise<Client> | undefined;
  private stopping = false;
  /** Set by a shutdown: a call still in flight must not start the server again behind the gateway's back. */
  private shutDown = false;
  /** Processes of failed starts still being stopped. */
  private readonly closing = new Set<Promise<void>>();
  private idleTimer: NodeJS.Timeout | undefined;
  private inflight = 0;
  private pins = 0;
  private consecutiveCrashes = 0;
  /** Counts starts, so that the failures of calls that one lost connection took down share an incident id. */
  private generation = 0;
  private lastCrashAt = 0;
  private pid: number | undefined;
  /** The process of the latest start (stdio servers), kept after it ends: how it ended explains a lost connection. */
  private lastProcess: ProcessTransport | undefined;
  private readonly stderr: StderrTail;
  private readonly callers = new CallerRegistry();
  /** Each connection's direct tools/call path (direct-requests.ts). */
  private readonly direct = new WeakMap<Client, DirectRequests>();
  private stateValue: ServerState = 'stopped';

  constructor(
    readonly name: string,
    private readonly config: ServerConfig,
    private readonly env: Readonly<Record<string, string>>,
    private readonly timings: ServerSettings,
    private readonly hooks: ServerConnectionHooks,
  ) {
    this.stderr = new StderrTail(50, timings.scrubStderr);
  }

  get state(): ServerState {
    return this.stateValue;
  }

  /** `stdio` for a child process, `http` for a streamable HTTP session. */
  get transport(): 'stdio' | 'http' {
    return isStdioServer(this.config) ? 'stdio' : 'http';
  }

  status(): ServerStatus {
    const nextStartAt = this.consecutiveCrashes > 0 && !this.client ? this.lastCrashAt + this.backoffDelay() : undefined;
    return {
      state: this.stateValue,
      pid: this.client ? (this.pid ?? null) : null,
      callsInFlight: this.inflight,
      consecutiveCrashes: this.consecutiveCrashes,
      lastCrashAt: this.lastCrashAt ? new Date(this.lastCrashAt).toISOString() : null,
      nextStartAt: nextStartAt === undefined ? null : new Date(nextStartAt).toISOString(),
      stderrTail: this.stderr.lines().slice(-STDERR_LINES_REPORTED),
    };
  }

  /**
   * Sends one request, starting the server if needed. `caller` ties server-to-client
   * requests made during this call back to the agent that made it.
   */
  async request<S extends z.ZodType<Result>>(
    request: Request,
    resultSchema: S,
    caller: DownstreamCaller | undefined,
    options: RequestOptions & { cancel?: Cancellation } = {},
  ): Promise<z.output<S>> {
    const client = this.client ?? (await this.connect());
    const generation = this.generation;
    const release = caller ? this.callers.enter(caller) : undefined;
    this.inflight += 1;
    this.clearIdleTimer();
    try {
      const direct = request.method === 'tools/call' && !options.onprogress ? this.direct.get(client) : undefined;
      const { cancel, ...sdkOptions } = options;
      const result = direct
        ? await direct.request(request, resultSchema, { timeout: options.timeout ?? this.timings.callTimeoutMs, cancel: cancel ?? (options.signal && cancellationOf(options.signal)) })
        : ((await client.request(request, resultSchema, { timeout: this.timings.callTimeoutMs, ...sdkOptions, ...(cancel ? { signal: cancel.signal } : {}) })) as z.output<S>);
      this.consecutiveCrashes = 0; // a server that answered since its last crash is healthy again
      return result;
    } catch (error) {
      // The connection was lost under this call (closed, or the transport could not send): all the
      // calls it takes down share one incident. An McpError with another code is an answer, or a timeout.
      if (!(error instanceof McpError) || error.code === ErrorCode.ConnectionClosed) markIncident(error, `${this.name}#${generation}`);
      throw error;
    } finally {
      release?.();
      this.inflight -= 1;
      this.armIdleTimer();
    }
  }

  /** Keeps the server from stopping when idle (e.g. while an agent is subscribed to one of its resources). */
  pin(): () => void {
    this.pins += 1;
    this.clearIdleTimer();
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.pins -= 1;
      this.armIdleTimer();
    };
  }

  /** Starts the server (once, however many callers ask at the same time). */
  async connect(): Promise<Client> {
    if (this.client) return this.client;
    if (this.shutDown) throw new GatehouseError('GH_DOWNSTREAM_UNAVAILABLE', `server "${this.name}" is not started again: the gateway is shutting down`, { server: this.name });
    if (!this.starting) this.refuseWhileFailed();
    this.starting ??= this.start().finally(() => {
      this.starting = undefined;
    });
    return this.starting;
  }

  /** Stops the process or closes the session; the next use starts it again. */
  async stop(reason: 'idle' | 'shutdown' = 'shutdown'): Promise<void> {
    if (reason === 'shutdown') this.shutDown = true;
    this.clearIdleTimer();
    if (this.starting) await this.starting.catch(() => undefined);
    if (reason === 'shutdown') await Promise.all(this.closing);
    const client = this.client;
    if (!client) return;
    this.stopping = true;
    this.client = undefined;
    try {
      await client.close();
    } finally {
      this.stopping = false;
      this.stateValue = 'stopped';
      this.hooks.stopped(this.name, reason);
    }
  }

  private async start(): Promise<Client> {
    await this.waitOutBackoff();
    this.stateValue = 'starting';
    const begun = performance.now();
    const client = new Client({ name: 'gatehouse', version: '0.1.0' }, { capabilities: this.clientCapabilities(), jsonSchemaValidator: sharedJsonSchemaValidator });
    this.registerServerToClientHandlers(client);
    const transport = this.createTransport();
    // Also when the start fails: a server marked failed says how its last process ended.
    this.lastProcess = transport instanceof ProcessTransport ? transport : undefined;
    let closedWhileStarting = false;
    client.onclose = () => {
      this.direct.get(client)?.closed();
      if (this.client === client) this.handleClose(client);
      else closedWhileStarting = true;
    };
    try {
      await client.connect(transport, { timeout: this.timings.startTimeoutMs });
      dispatchByShape(client, transport);
      // Inside the reordering below, so that a direct request's response also comes after the
      // notifications the server sent before it.
      this.direct.set(client, new DirectRequests(transport));
      keepNotificationsBeforeResponses(transport);
      this.pid = transport instanceof ProcessTransport ? transport.pid : undefined;
      const listing = await fetchListing(client, this.timings.startTimeoutMs);
      await this.hooks.listed(this.name, listing);
      // The server may have exited while its listing was being stored: that is a failed start.
      if (closedWhileStarting) throw new Error('the server exited right after listing');
      this.client = client;
      this.generation += 1;
      this.stateValue = 'running';
      this.hooks.started(this.name, { pid: this.pid, startMs: Math.round(performance.now() - begun) });
      this.armIdleTimer();
      return client;
    } catch (error) {
      // Not awaited: a process that ignores its closed stdin gets SIGTERM only after a grace
      // second, and the caller should not wait for that (a shutdown does). Its late close is
      // ignored by handleClose, since this client never became the connection's.
      const closing = client.close().catch(() => undefined);
      this.closing.add(closing);
      void closing.finally(() => this.closing.delete(closing));
      this.recordCrash();
      const ending = this.ending();
      // A start that timed out will not be faster on a second try: protect does not retry it.
      const startTimedOut = error instanceof McpError && error.code === ErrorCode.RequestTimeout;
      throw new GatehouseError(
        'GH_DOWNSTREAM_UNAVAILABLE',
        `server "${this.name}" could not be started: ${(error as Error).message}${ending.text}`,
        { server: this.name, ...ending.data, ...(startTimedOut ? { startTimedOut: true } : {}) },
        { cause: error },
      );
    }
  }

  private createTransport(): Transport {
    if (isStdioServer(this.config)) {
      return new ProcessTransport({
        command: this.config.command,
        args: this.config.args,
        // A minimal safe environment (PATH, HOME, …) plus the configured one: the gateway's own secrets never reach the child.
        env: { ...getDefaultEnvironment(), ...this.env },
        cwd: this.config.cwd,
        maxMessageBytes: this.timings.maxMessageBytes,
        onStderr: (chunk) => this.stderr.push(chunk),
      });
    }
    return new StreamableHTTPClientTransport(new URL(this.config.url), {
      requestInit: { headers: this.config.headers },
      fetch: freshSignalFetch,
    });
  }

  private clientCapabilities(): ClientCapabilities {
    return {
      elicitation: {},
      sampling: {},
      ...(this.config.forwardRoots ? { roots: { listChanged: false } } : {}),
    };
  }

  private registerServerToClientHandlers(client: Client): void {
    client.setRequestHandler(ElicitRequestSchema, (request, extra) =>
      this.callers.forward(this.name, 'elicitation', request, extra.signal),
    );
    client.setRequestHandler(CreateMessageRequestSchema, (request, extra) =>
      this.callers.forward(this.name, 'sampling', request, extra.signal),
    );
    if (this.config.forwardRoots) {
      client.setRequestHandler(ListRootsRequestSchema, (request, extra) =>
        this.callers.forward(this.name, 'roots', request, extra.signal),
      );
    }
    // A server's log lines belong to the call that caused them: they go to that caller only,
    // never to every agent that may use the server (that would leak one agent's work to others).
    client.setNotificationHandler(LoggingMessageNotificationSchema, (notification) => {
      const caller = this.callers.soleCaller();
      if (caller) caller.log(notification.params);
      else this.hooks.logDropped(this.name, notification.params);
    });
    client.setNotificationHandler(ResourceUpdatedNotificationSchema, (notification) => this.hooks.resourceUpdated(this.name, notification.params.uri));
    // A server that floods list_changed gets one listing at a time, plus one after the last change.
    let listing: Promise<void> | undefined;
    let again = false;
    const relist = () => {
      if (listing) {
        again = true;
        return;
      }
      listing = fetchListing(client, this.timings.startTimeoutMs)
        .then(
          (fresh) => this.hooks.listed(this.name, fresh),
          () => undefined, // a failed refresh keeps the previous listing; the next start refreshes again
        )
        .finally(() => {
          listing = undefined;
          if (again && this.client === client) {
            again = false;
            relist();
          }
        });
    };
    client.setNotificationHandler(ToolListChangedNotificationSchema, relist);
    client.setNotificationHandler(ResourceListChangedNotificationSchema, relist);
    client.setNotificationHandler(PromptListChangedNotificationSchema, relist);
  }

  /**
   * How the server's latest process ended, for the error of a start or call it took down, or of a
   * call refused while it is marked failed: " (it exited with code 2; its stderr ends: …)" and the
   * same as data. "Connection closed", the SDK's words, alone does not say why.
   */
  ending(): { text: string; data: { stderrTail: string[]; exitCode?: number | null; signal?: string | null } } {
    const stderrTail = this.stderr.lines().slice(-STDERR_LINES_REPORTED);
    const exit = this.lastProcess?.exit;
    const ended = exit ? (exit.signal ? `it was ended by ${exit.signal}` : `it exited with code ${exit.code}`) : '';
    const words = [ended, stderrTail.length > 0 ? `its stderr ends: ${stderrTail.at(-1)}` : ''].filter(Boolean).join('; ');
    return { text: words ? ` (${words})` : '', data: { stderrTail, ...(exit ? { exitCode: exit.code, signal: exit.signal } : {}) } };
  }

  /** An unexpected close of a running server; a failed start is recorded by start() itself. */
  private handleClose(client: Client): void {
    if (this.stopping || this.client !== client) return;
    this.client = undefined;
    this.clearIdleTimer();
    this.recordCrash();
  }

  private recordCrash(): void {
    this.consecutiveCrashes += 1;
    this.lastCrashAt = Date.now();
    const failed = this.consecutiveCrashes >= this.timings.maxConsecutiveCrashes;
    this.stateValue = failed ? 'failed' : 'crashed';
    const stderrTail = this.stderr.lines().slice(-STDERR_LINES_REPORTED);
    this.hooks.crashed(this.name, { pid: this.pid, stderrTail, consecutiveCrashes: this.consecutiveCrashes });
    if (this.consecutiveCrashes === this.timings.maxConsecutiveCrashes) {
      this.hooks.failed(this.name, { stderrTail, consecutiveCrashes: this.consecutiveCrashes, nextStartAt: new Date(this.lastCrashAt + this.backoffDelay()).toISOString() });
    }
  }

  /** A failed server is not started (nor waited for) before its backoff has passed: the call fails at once. */
  private refuseWhileFailed(): void {
    if (this.stateValue !== 'failed') return;
    const nextStartAt = this.lastCrashAt + this.backoffDelay();
    if (Date.now() >= nextStartAt) return; // this call probes a start
    const ending = this.ending();
    throw new GatehouseError(
      'GH_SERVER_FAILED',
      `server "${this.name}" crashed ${this.consecutiveCrashes} times in a row and is marked failed${ending.text}; it will be started again at ${new Date(nextStartAt).toISOString()} (gatehouse servers shows its stderr)`,
      { server: this.name, consecutiveCrashes: this.consecutiveCrashes, nextStartAt: new Date(nextStartAt).toISOString(), ...ending.data },
    );
  }

  private backoffDelay(): number {
    if (this.consecutiveCrashes === 0) return 0;
    return Math.min(this.timings.restartBackoffMs * 2 ** (this.consecutiveCrashes - 1), this.timings.restartBackoffMaxMs);
  }

  private async waitOutBackoff(): Promise<void> {
    const remaining = this.lastCrashAt + this.backoffDelay() - Date.now();
    if (remaining > 0) await new Promise((resolve) => setTimeout(resolve, remaining));
  }

  private armIdleTimer(): void {
    if (this.inflight > 0 || this.pins > 0 || !this.client) return;
    this.clearIdleTimer();
    this.idleTimer = setTimeout(() => {
      this.stop('idle').catch(() => undefined);
    }, this.timings.idleTimeoutMs);
    this.idleTimer.unref();
  }

  private clearIdleTimer(): void {
    if (this.idleTimer) clearTimeout(this.idleTimer);
    this.idleTimer = undefined;
  }
}

import { randomBytes } from 'node:crypto';
import type { Server } from '@modelcontextprotocol/sdk/server/index.js';
import type { Logger } from 'pino';
import type { GatehouseConfig } from '../config/load.js';
import type { GatehouseEvent, RecordEvent } from '../core/events.js';
import { ToolSearchIndex } from '../core/tool-search.js';
import type { EventStore } from '../ports/event-store.js';
import type { SchemaCache, ServerListing } from '../ports/schema-cache.js';
import { ServerConnection, type ServerConnectionHooks, type ServerStatus } from '../downstream/server-connection.js';
import { Resilience } from '../resilience/resilience.js';
import type { CircuitHooks, CircuitStatus } from '../resilience/circuit.js';
import { Catalog } from './catalog.js';
import { ArgumentValidator } from './pipeline/validate.js';
import { ALWAYS_ASK_A_HUMAN, type TrustPolicy } from './pipeline/govern.js';
import type { PipelineDeps } from './pipeline/run.js';
import { NO_METRICS, NO_TRACING, type CallMetrics, type CallTracing } from './pipeline/telemetry.js';
import type { ApprovalStore } from '../ports/approval-store.js';
import type { IdempotencyLedger } from '../ports/idempotency-ledger.js';
import type { ReviewStore } from '../ports/review-store.js';
import type { PinStore } from '../ports/pin-store.js';
import type { KeyStore } from '../ports/key-store.js';
import type { DeadLetterFallback, DeadLetterStore } from '../ports/dead-letter-store.js';
import { DeadLetterBox } from './dead-letter-box.js';
import { ApprovedCallRunner } from './approved-calls.js';
import type { CheckpointStore } from '../ports/checkpoint-store.js';
import type { AuditArchive } from '../ports/audit-archive.js';
import type { RunsStore } from '../ports/runs-store.js';
import type { ProcessRegistry } from '../ports/process-registry.js';
import type { AuditSigner } from '../core/checkpoint.js';
import { Checkpointer } from './checkpointer.js';
import { RunsRefresher } from './runs-refresher.js';
import { ConfirmTokens } from '../core/confirm-token.js';
import { ApprovalDesk, grantTtlFromConfig } from '../governance/approval-desk.js';
import { GateBook } from '../governance/gate-book.js';
import { PinBook } from '../governance/pin-book.js';
import { GATEWAY_PROCESS, HEARTBEAT_MS, ownerGoneBy, reconcileInFlight } from '../governance/crash-recovery.js';
import { closeInterruptedRuns } from '../governance/interrupted-runs.js';
import { cachedToolNames, unmatchedToolNames } from '../governance/unmatched-tool-names.js';
import { configSecretValues } from '../config/secret-values.js';
import { SecretValues } from '../log.js';
import { compileProfiles, type Profile } from './profiles.js';
import { TokenBook } from './tokens.js';
import { Subscriptions } from './subscriptions.js';
import { EventOutbox } from './event-outbox.js';

export interface GatewayStores {
  events: EventStore;
  cache: SchemaCache;
  approvals: ApprovalStore;
  ledger: IdempotencyLedger;
  reviews: ReviewStore;
  pins: PinStore;
  keys: KeyStore;
  deadLetters: DeadLetterStore;
  /** Where dead letters go when the store refuses them (a JSON-lines file). */
  deadLetterFile: DeadLetterFallback;
  checkpoints: CheckpointStore;
  archive: AuditArchive;
  runs: RunsStore;
  /** Gateway processes that say they are alive: crash recovery across hosts. */
  processes: ProcessRegistry;
}

/** How often a running gateway looks for pins accepted by another process. */
const PIN_REFRESH_MS = 1_000;

/** How often expired idempotency keys are deleted (also once at start). */
const LEDGER_PRUNE_MS = 60 * 60 * 1000;

/** What a gateway may be given besides its config and stores; every part has a default. */
export interface GatewayOptions {
  /** Which gated calls need a human; until trust levels exist, every G2/G3 call does. */
  trust?: TrustPolicy;
  /** Spans per call (see src/telemetry); off by default. */
  tracing?: CallTracing;
  /** Call counters and latency for /metrics; off by default. */
  metrics?: CallMetrics;
  /** Signs audit checkpoints; without one the gateway writes none. */
  signer?: AuditSigner;
  /** Run approved calls of `queue` profiles (default true; a CLI command that opens a gateway says false). */
  runApprovedCalls?: boolean;
}

/** Room for the JSON-RPC envelope around a result of maxResultBytes, in a stdio server's message limit. */
const MESSAGE_ENVELOPE_BYTES = 64 * 1024;

/** One server as an operator sees it: the process and its circuit. */
export interface ServerReport extends ServerStatus {
  server: string;
  circuit: CircuitStatus;
  bulkhead: { inFlight: number; queued: number; maxConcurrentCalls: number; maxQueuedCalls: number };
}

/** A live upstream session, so that server-wide notifications reach the agents that may see them. */
export interface SessionHandle {
  readonly id: string;
  readonly profile: Profile;
  readonly server: Server;
}

/**
 * The wiring of one gateway process: profiles, downstream connections, the catalog, the
 * call pipeline's dependencies, and the live sessions. Transports create sessions on it.
 */
export class Gateway {
  readonly profiles: ReadonlyMap<string, Profile>;
  readonly connections: ReadonlyMap<string, ServerConnection>;
  readonly catalog: Catalog;
  readonly tokens: TokenBook;
  readonly pipeline: PipelineDeps;
  readonly subscriptions: Subscriptions;
  readonly audit: EventOutbox;
  readonly deadLetters: DeadLetterBox;
  readonly approvedCalls: ApprovedCallRunner | undefined;
  readonly gates: GateBook;
  readonly desk: ApprovalDesk;
  readonly pins: PinBook;
  readonly resilience: Resilience;
  readonly checkpointer: Checkpointer | undefined;
  readonly runsRefresher: RunsRefresher;
  private readonly pruneTimer: NodeJS.Timeout;
  private readonly pinTimer: NodeJS.Timeout;
  private readonly heartbeatTimer: NodeJS.Timeout;
  private readonly sessions = new Set<SessionHandle>();
  private readonly searchIndexes = new Map<string, { version: number; index: ToolSearchIndex }>();

  /**
   * Builds a gateway on open stores: reads what it needs from them first (the confirm-token
   * key, every pin), then prunes expired idempotency keys and schedules that hourly, and
   * reconciles the keyed calls a dead gateway left in flight (crash-recovery.ts) and closes its
   * runs that never got an answer (interrupted-runs.ts).
   */
  static async open(config: GatehouseConfig, stores: GatewayStores, log: Logger, env: NodeJS.ProcessEnv, options: GatewayOptions = {}): Promise<Gateway> {
    const confirmKey = await stores.keys.key('confirm-token', () => randomBytes(32));
    const gateway = new Gateway(config, stores, log, env, confirmKey, options);
    await stores.processes.beat(GATEWAY_PROCESS);
    await gateway.pins.refresh();
    await gateway.pruneLedger();
    const gone = ownerGoneBy(stores.processes);
    const unknown = await reconcileInFlight(stores.ledger, (event) => gateway.record(event), gone);
    if (unknown.length > 0) log.warn({ keys: unknown.map((entry) => `${entry.agent} ${entry.tool} ${entry.key}`) }, 'calls in flight when a gateway stopped are now unknown: an operator must decide (gatehouse commits list)');
    const interrupted = await closeInterruptedRuns(stores.runs, stores.events, (event) => gateway.record(event), gone);
    if (interrupted.length > 0) log.warn({ runs: interrupted.map((run) => run.runId) }, 'calls a stopped gateway never answered are recorded as failed (GH_GATEWAY_STOPPED)');
    const unmatched = unmatchedToolNames(config, await cachedToolNames(stores.cache, Object.keys(config.servers)));
    if (unmatched.length > 0) log.warn({ problems: unmatched }, 'tool names in the config match no listed tool: misspelt? (gatehouse tools shows them too)');
    return gateway;
  }

  private constructor(
    readonly config: GatehouseConfig,
    readonly stores: GatewayStores,
    readonly log: Logger,
    env: NodeJS.ProcessEnv,
    confirmKey: Buffer,
    options: GatewayOptions,
  ) {
    this.profiles = compileProfiles(config);
    this.tokens = new TokenBook(config, env);
    for (const warning of this.tokens.warnings) log.warn(warning);
    const hooks = this.connectionHooks();
    const defaults = config.defaults;
    this.resilience = new Resilience(config, this.circuitHooks());
    // A server's stderr reaches agents, events and the servers API: the config's secrets are scrubbed from it.
    const secrets = new SecretValues();
    secrets.add(configSecretValues(config));
    this.connections = new Map(
      Object.entries(config.servers).map(([name, server]) => [
        name,
        new ServerConnection(name, server, 'env' in server ? server.env : {}, {
          idleTimeoutMs: server.idleTimeoutMs ?? defaults.idleTimeoutMs,
          callTimeoutMs: server.callTimeoutMs ?? defaults.callTimeoutMs,
          startTimeoutMs: server.startTimeoutMs ?? defaults.startTimeoutMs,
          restartBackoffMs: server.restartBackoffMs ?? defaults.restartBackoffMs,
          restartBackoffMaxMs: server.restartBackoffMaxMs ?? defaults.restartBackoffMaxMs,
          maxConsecutiveCrashes: server.maxConsecutiveCrashes ?? defaults.maxConsecutiveCrashes,
          maxMessageBytes: this.resilience.guard(name).maxResultBytes + MESSAGE_ENVELOPE_BYTES,
          scrubStderr: (line) => secrets.scrub(line),
        }, hooks),
      ]),
    );
    this.subscriptions = new Subscriptions(this.connections);
    const audit = config.audit;
    this.checkpointer = options.signer
      ? new Checkpointer(stores.checkpoints, options.signer, { everyEvents: audit.checkpointEveryEvents, everyMs: audit.checkpointEveryMs }, log)
      : undefined;
    this.runsRefresher = new RunsRefresher(stores.runs, log);
    const record: RecordEvent = (event) => this.record(event);
    this.deadLetters = new DeadLetterBox(stores.deadLetters, stores.deadLetterFile, record);
    this.audit = new EventOutbox(
      stores.events,
      log,
      (count) => {
        this.checkpointer?.written(count);
        this.runsRefresher.written();
      },
      { deadLetter: (events, error, attempts) => this.deadLetters.addEvents(events, error, attempts) },
    );
    this.gates = new GateBook(config);
    this.desk = new ApprovalDesk(stores.approvals, record, grantTtlFromConfig(config), config.governance.approvalPollMs);
    // Every listing is pinned by the process that stores it (storeListing), so a start only loads the pins (open).
    this.pins = new PinBook(stores.pins, record);
    this.catalog = new Catalog(this.connections, stores.cache, (message, data) => log.warn(data, message), (server, tool) =>
      this.pins.isQuarantined(server, tool.name),
    );
    this.pipeline = {
      catalog: this.catalog,
      pins: this.pins,
      validator: new ArgumentValidator(),
      governance: {
        gates: this.gates,
        desk: this.desk,
        ledger: stores.ledger,
        reviews: stores.reviews,
        confirmTokens: new ConfirmTokens(confirmKey),
        trust: options.trust ?? ALWAYS_ASK_A_HUMAN,
        settings: config.governance,
        record,
        owner: GATEWAY_PROCESS,
      },
      connections: this.connections,
      audit: this.audit,
      tracing: options.tracing ?? NO_TRACING,
      metrics: options.metrics ?? NO_METRICS,
      resilience: this.resilience,
    };
    this.pruneTimer = setInterval(() => void this.pruneLedger(), LEDGER_PRUNE_MS).unref();
    // Every second while sessions are open, not on their requests: a call does not wait for the
    // store, and an acceptance reaches idle sessions too (tools/list_changed).
    this.pinTimer = setInterval(() => {
      if (this.sessions.size > 0) this.refreshPins().catch((error: unknown) => log.warn({ err: (error as Error).message }, 'pins could not be re-read; trying again'));
    }, PIN_REFRESH_MS).unref();
    // Other hosts' gateways tell this process's death from its silence (crash-recovery.ts).
    this.heartbeatTimer = setInterval(() => {
      stores.processes.beat(GATEWAY_PROCESS).catch((error: unknown) => log.warn({ err: (error as Error).message }, 'the process registry could not be told that this gateway is alive; trying again'));
    }, HEARTBEAT_MS).unref();
    this.approvedCalls = options.runApprovedCalls === false ? undefined : new ApprovedCallRunner(this);
  }

  /** Deletes expired idempotency keys; a failure is logged (the next run tries again). */
  private async pruneLedger(): Promise<void> {
    try {
      await this.stores.ledger.prune(new Date().toISOString());
    } catch (error) {
      this.log.warn({ err: error }, 'expired idempotency keys could not be pruned');
    }
  }

  /**
   * Picks up pins accepted (or quarantined) by another process (the pin timer calls it every
   * second); on a change the catalog is rebuilt and sessions are told their tool list changed.
   */
  private async refreshPins(): Promise<void> {
    if (!(await this.pins.refresh())) return;
    this.catalog.invalidate();
    for (const session of this.sessions) session.server.sendToolListChanged().catch(() => undefined);
  }

  record(event: Omit<GatehouseEvent, 'at'>): void {
    void this.audit.append({ ...event, at: new Date().toISOString() });
  }

  /** Registers a live session; the returned function ends it (and its resource subscriptions). */
  addSession(session: SessionHandle): () => void {
    this.sessions.add(session);
    return () => {
      this.sessions.delete(session);
      void this.subscriptions.dropSession(session.id);
    };
  }

  /** The lazy-mode search index of a profile, over cached listings only; rebuilt when a listing changes. */
  async searchIndex(profile: Profile): Promise<ToolSearchIndex> {
    const hit = this.searchIndexes.get(profile.name);
    if (hit && hit.version === this.catalog.listingVersion) return hit.index;
    const version = this.catalog.listingVersion;
    const tools = (await this.catalog.tools(profile, { cachedOnly: true })).map(({ server, item, exposed }) => ({
      name: exposed,
      server,
      title: item.title ?? item.annotations?.title,
      description: item.description,
    }));
    const index = new ToolSearchIndex(tools);
    this.searchIndexes.set(profile.name, { version, index });
    return index;
  }

  /** Every server's state, circuit and bulkhead, for `gatehouse servers` (GET /api/servers). */
  serverReports(): ServerReport[] {
    return [...this.connections.values()].map((connection) => {
      const guard = this.resilience.guard(connection.name);
      return {
        server: connection.name,
        ...connection.status(),
        circuit: guard.circuit.status(),
        bulkhead: { inFlight: guard.bulkhead.inFlight, queued: guard.bulkhead.queued, maxConcurrentCalls: guard.bulkhead.maxConcurrent, maxQueuedCalls: guard.bulkhead.maxQueued },
      };
    });
  }

  /**
   * Why a server's tools cannot be called right now (its circuit is open, or it is marked failed),
   * with when that ends; undefined when they can. Lazy search shows it beside each hit.
   */
  unavailability(server: string): { reason: string; until: string | null } | undefined {
    const circuit = this.resilience.guard(server).circuit.status();
    if (circuit.state === 'open') return { reason: 'circuit open after repeated failures', until: circuit.retryAt };
    if (circuit.state === 'half_open') return { reason: 'circuit half-open: a probe call is testing the server', until: null };
    const status = this.connections.get(server)?.status();
    if (status?.state === 'failed') return { reason: `server crashed ${status.consecutiveCrashes} times in a row`, until: status.nextStartAt };
    return undefined;
  }

  /** Number of downstream processes or sessions currently running. */
  runningServers(): string[] {
    return [...this.connections.values()].filter((c) => c.state === 'running').map((c) => c.name);
  }

  async close(): Promise<void> {
    clearInterval(this.pruneTimer);
    clearInterval(this.pinTimer);
    clearInterval(this.heartbeatTimer);
    await this.approvedCalls?.close();
    await Promise.all([...this.connections.values()].map((connection) => connection.stop('shutdown').catch(() => undefined)));
    await Promise.all([...this.sessions].map((session) => session.server.close().catch(() => undefined)));
    await this.audit.flush();
    await this.stores.processes.stopped(GATEWAY_PROCESS).catch((error: unknown) => this.log.warn({ err: error }, 'the process registry could not be told that this gateway stopped'));
  }

  private connectionHooks(): ServerConnectionHooks {
    return {
      started: (server, info) => {
        this.log.info({ server, pid: info.pid, startMs: info.startMs }, 'downstream server started');
        this.record({ type: 'server.started', server, payload: { pid: info.pid ?? null, startMs: info.startMs } });
        this.subscriptions.resubscribe(server);
      },
      stopped: (server, reason) => {
        this.log.info({ server, reason }, 'downstream server stopped');
        this.record({ type: 'server.stopped', server, payload: { reason } });
      },
      crashed: (server, info) => {
        this.log.warn({ server, pid: info.pid, consecutiveCrashes: info.consecutiveCrashes }, 'downstream server exited unexpectedly');
        this.record({ type: 'server.crashed', server, payload: { ...info, pid: info.pid ?? null } });
      },
      failed: (server, info) => {
        this.log.error({ server, consecutiveCrashes: info.consecutiveCrashes, nextStartAt: info.nextStartAt, stderrTail: info.stderrTail.slice(-5) }, 'downstream server is crash-looping: marked failed');
        this.record({ type: 'server.failed', server, payload: info });
      },
      listed: (server, listing) => this.listingArrived(server, listing),
      logDropped: (server, params) => this.log.debug({ server, level: params.level }, 'log message from a server with no single caller in flight, not delivered'),
      resourceUpdated: (server, uri) => this.subscriptions.updated(server, uri),
    };
  }

  private circuitHooks(): CircuitHooks {
    return {
      opened: (server, info) => {
        this.log.warn({ server, retryAt: info.retryAt, rule: info.rule }, 'circuit opened: calls to the server fail fast');
        this.record({ type: 'circuit.opened', server, payload: info });
      },
      halfOpened: (server) => this.record({ type: 'circuit.half_opened', server, payload: {} }),
      closed: (server) => {
        this.log.info({ server }, 'circuit closed: the server answers again');
        this.record({ type: 'circuit.closed', server, payload: {} });
      },
    };
  }

  /** Stores a server's listing in the schema cache, pinning its tools (and quarantining changed ones). */
  async storeListing(server: string, listing: ServerListing): Promise<void> {
    // Pins first: the catalog must not show a changed tool before it is quarantined.
    const quarantined = await this.pins.check(server, listing);
    for (const tool of quarantined) this.log.warn({ server, tool }, 'tool definition changed since it was pinned: quarantined until `gatehouse tools accept`');
    await this.catalog.store(server, listing);
  }

  private async listingArrived(server: string, listing: ServerListing): Promise<void> {
    for (const bad of listing.rejected ?? []) this.log.warn({ server, tool: bad.name, problem: bad.problem }, 'tool left out: not a valid MCP tool definition');
    const previous = await this.catalog.cached(server);
    try {
      await this.storeListing(server, listing);
    } catch (error) {
      this.log.error({ err: error, server }, 'listing could not be stored or pinned');
      throw error;
    }
    if (!previous) return;
    const changed = (a: unknown, b: unknown) => JSON.stringify(a) !== JSON.stringify(b);
    for (const session of this.sessions) {
      if (!session.profile.servers.includes(server)) continue;
      if (changed(previous.tools, listing.tools)) session.server.sendToolListChanged().catch(() => undefined);
      if (changed(previous.resources, listing.resources) || changed(previous.resourceTemplates, listing.resourceTemplates)) {
        session.server.sendResourceListChanged().catch(() => undefined);
      }
      if (changed(previous.prompts, listing.prompts)) session.server.sendPromptListChanged().catch(() => undefined);
    }
  }
}

import { z } from 'zod';
import { EVENT_TYPES } from '../core/events.js';
import { GATES } from '../core/gates.js';
import { SERVER_NAME_PATTERN, SERVER_NAME_RULE } from '../core/naming.js';
import { DURABILITIES } from '../ports/event-store.js';

/**
 * The configuration schema: the single source of truth for what gatehouse.yaml may hold.
 * docs/configuration.md explains every key; units are in the names (…Ms, …Bytes).
 */


/** Server names become the `server__` prefix of tool names, so they may not contain `__`. */

const serverName = z.string().regex(SERVER_NAME_PATTERN, SERVER_NAME_RULE);

const toolRule = z.strictObject({
  gate: z.enum(GATES).optional(),
  /**
   * The tool may safely run twice with the same arguments: a call that failed for a transient
   * reason is retried (a G2/G3 tool only when the call carries an idempotency key).
   */
  idempotent: z.boolean().optional(),
  /** Overrides the server's callTimeoutMs for the tools this rule names. */
  callTimeoutMs: z.number().int().positive().optional(),
});

/**
 * When a server's circuit opens: after `consecutiveFailures` failed calls in a row, or, when
 * `failureRatio` is given, once that share of the calls in the last `samplingWindowMs` failed
 * (with at least `minimumCallsPerSecond` calls in the window, so that two calls do not decide).
 * Open, its calls fail fast; after `halfOpenAfterMs` one probe call goes through and closes it again
 * on success.
 */
const circuitBreakerSchema = z.strictObject({
  enabled: z.boolean().optional(),
  consecutiveFailures: z.number().int().positive().optional(),
  failureRatio: z.number().gt(0).max(1).optional(),
  samplingWindowMs: z.number().int().positive().optional(),
  minimumCallsPerSecond: z.number().positive().optional(),
  halfOpenAfterMs: z.number().int().positive().optional(),
});

export const CIRCUIT_BREAKER_DEFAULTS = {
  enabled: true,
  consecutiveFailures: 5,
  samplingWindowMs: 30_000,
  minimumCallsPerSecond: 0.5,
  halfOpenAfterMs: 10_000,
};

/** Retries of failed calls that are safe to repeat: at most 2, exponential backoff with full jitter. */
const retrySchema = z.strictObject({
  maxRetries: z.number().int().min(0).max(2).optional(),
  baseDelayMs: z.number().int().nonnegative().optional(),
  maxDelayMs: z.number().int().nonnegative().optional(),
});

export const RETRY_DEFAULTS = { maxRetries: 2, baseDelayMs: 100, maxDelayMs: 2_000 };

/** A token bucket: `callsPerSecond` on average, up to `burst` at once. */
const rateLimitSchema = z.strictObject({
  callsPerSecond: z.number().positive(),
  burst: z.number().int().positive().optional(),
});

const serverCommon = {
  domain: z.string().min(1).default('default'),
  /** Gate of this server's tools that no `tools` rule names; annotations may raise it (default G2). */
  defaultGate: z.enum(GATES).optional(),
  description: z.string().optional(),
  idleTimeoutMs: z.number().int().positive().optional(),
  callTimeoutMs: z.number().int().positive().optional(),
  startTimeoutMs: z.number().int().positive().optional(),
  /** Overrides of defaults.restartBackoffMs, restartBackoffMaxMs and maxConsecutiveCrashes for this server. */
  restartBackoffMs: z.number().int().nonnegative().optional(),
  restartBackoffMaxMs: z.number().int().nonnegative().optional(),
  maxConsecutiveCrashes: z.number().int().positive().optional(),
  /** Overrides of defaults.circuitBreaker, key by key. */
  circuitBreaker: circuitBreakerSchema.optional(),
  retry: retrySchema.optional(),
  /** Bulkhead: tool calls in flight at once on this server; more wait in a queue of maxQueuedCalls, then are refused. */
  maxConcurrentCalls: z.number().int().positive().optional(),
  maxQueuedCalls: z.number().int().nonnegative().optional(),
  /** Largest arguments (JSON bytes) a call may send, and largest result it may return. */
  maxRequestBytes: z.number().int().positive().optional(),
  maxResultBytes: z.number().int().positive().optional(),
  /** Per-tool settings keyed by tool name or glob (e.g. "update_*"); gates are used by the governance stage. */
  tools: z.record(z.string().min(1), toolRule).default({}),
  /**
   * Answer the server's roots/list with the calling agent's roots. Off by default: a shared
   * server (e.g. server-filesystem) would otherwise adopt one agent's roots for everyone.
   */
  forwardRoots: z.boolean().default(false),
};

const stdioServer = z.strictObject({
  ...serverCommon,
  command: z.string().min(1),
  args: z.array(z.string()).default([]),
  env: z.record(z.string(), z.string()).default({}),
  cwd: z.string().optional(),
});

const httpServer = z.strictObject({
  ...serverCommon,
  url: z.url(),
  headers: z.record(z.string(), z.string()).default({}),
});

export const serverSchema = z.union([stdioServer, httpServer]);

export const APPROVAL_DEFAULTS = { mode: 'wait' as const, timeoutMs: 120_000, grantTtlMs: 600_000, elicit: false };

/** How a G2/G3 call of this profile waits for its human. */
const approvalSchema = z.strictObject({
  /**
   * `wait`: the call blocks until a decision or `timeoutMs` (then it is denied).
   * `return`: the call answers at once with an approval id; the agent calls again with it.
   * `queue` (G2): answers at once like `return`, and once a human approves, the gateway runs the
   * call itself; a failure after its safe retries goes to the dead letters (`gatehouse dlq`).
   */
  mode: z.enum(['wait', 'return', 'queue']).default('wait'),
  /** How long a request may stay undecided; past it the request expires and the call is denied. */
  timeoutMs: z.number().int().positive().default(120_000),
  /** How long an approved (return-mode) grant stays usable. */
  grantTtlMs: z.number().int().positive().default(600_000),
  /**
   * Wait mode only: also ask the person at the agent's client, through MCP elicitation, when
   * the client supports it. For clients that show elicitations to a human (the model cannot
   * answer them); the first decision from any channel counts.
   */
  elicit: z.boolean().default(false),
});

const profileSchema = z.strictObject({
  description: z.string().optional(),
  mode: z.enum(['eager', 'lazy']).default('eager'),
  /**
   * `namespaced` (default): `server__tool`, `server+uri`. `plain`: names as the servers give
   * them (a name two servers share keeps the prefix), for a gateway that should be transparent.
   */
  names: z.enum(['namespaced', 'plain']).default('namespaced'),
  /** Globs over `server/tool`; `*` matches any run of characters except `/`. */
  allow: z.array(z.string().min(1)).min(1),
  approval: approvalSchema.default(APPROVAL_DEFAULTS),
  /** Per agent using this profile: tool calls through it are limited by a token bucket of their own. */
  rateLimit: rateLimitSchema.optional(),
});

const tokenSource = {
  /** Name of an environment variable that holds the bearer token. */
  tokenEnv: z.string().min(1).optional(),
  /** Hex SHA-256 of the bearer token, for configs that must not see the token at all. */
  tokenSha256: z.string().regex(/^[0-9a-f]{64}$/, 'a lowercase hex SHA-256 (64 characters)').optional(),
  /** A file holding the token; created with a random token (mode 0600) when missing. */
  tokenFile: z.string().min(1).optional(),
};

const exactlyOneTokenSource = [
  (a: { tokenEnv?: string | undefined; tokenSha256?: string | undefined; tokenFile?: string | undefined }) =>
    [a.tokenEnv, a.tokenSha256, a.tokenFile].filter(Boolean).length === 1,
  { message: 'give exactly one of tokenEnv, tokenSha256, tokenFile' },
] as const;

const agentSchema = z
  .strictObject({
    description: z.string().optional(),
    profiles: z.array(z.string().min(1)).min(1),
    /** The agent's tool calls, over all its profiles, are limited by this token bucket. */
    rateLimit: rateLimitSchema.optional(),
    ...tokenSource,
  })
  .refine(...exactlyOneTokenSource);

/** Humans who decide approvals over HTTP (`/api/approvals`). Their tokens open no profile. */
const operatorSchema = z
  .strictObject({
    description: z.string().optional(),
    ...tokenSource,
  })
  .refine(...exactlyOneTokenSource);

/** What every server gets unless it (or `defaults`) says otherwise. */
export const DOWNSTREAM_DEFAULTS = {
  idleTimeoutMs: 5 * 60 * 1000,
  callTimeoutMs: 60 * 1000,
  startTimeoutMs: 30 * 1000,
  restartBackoffMs: 250,
  restartBackoffMaxMs: 30 * 1000,
  maxConsecutiveCrashes: 5,
  maxConcurrentCalls: 64,
  maxQueuedCalls: 256,
  maxRequestBytes: 1024 * 1024,
  maxResultBytes: 8 * 1024 * 1024,
};

/** `kind` may be left out: SQLite is the default, also when `store` names only a path. */
const storeSchema = z.preprocess((value) => (value !== null && typeof value === 'object' && !Array.isArray(value) && !('kind' in value) ? { kind: 'sqlite', ...value } : value), z.discriminatedUnion('kind', [
  z.strictObject({
    kind: z.literal('sqlite'),
    path: z.string().min(1, 'give a file path, or leave store.path out for the default').default('.gatehouse/gatehouse.db'),
    /** `process`: synchronous=NORMAL (WAL), the default; `power`: synchronous=FULL, a flush per commit. */
    durability: z.enum(DURABILITIES).default('process'),
  }),
  z.strictObject({
    kind: z.literal('postgres'),
    /** A libpq connection string, e.g. "${DATABASE_URL}" or postgres://user:pass@host:5432/db. */
    url: z.string().min(1),
    /** Connections each process keeps open at most (one more listens for approval decisions). */
    poolSize: z.number().int().positive().default(10),
    /** `power`: synchronous_commit=on, the default (PostgreSQL's); `process`: synchronous_commit=off. */
    durability: z.enum(DURABILITIES).default('power'),
  }),
]));

/**
 * OpenTelemetry spans per call (see docs/observability.md). Off by default: no tracer is
 * loaded, and a call pays nothing for tracing.
 */
const tracingSchema = z.strictObject({
  enabled: z.boolean().default(false),
  /** OTLP over HTTP with protobuf bodies (a collector's port 4318). */
  endpoint: z.url().default('http://localhost:4318/v1/traces'),
  /** Sent with every export, e.g. a collector's API key ("${VAR}" keeps it out of the file); redacted in logs. */
  headers: z.record(z.string(), z.string()).default({}),
  serviceName: z.string().min(1).default('gatehouse'),
  /** Share of traces started here that are recorded; a call in an agent's trace follows the agent's decision. */
  sampleRatio: z.number().min(0).max(1).default(1),
  exportTimeoutMs: z.number().int().positive().default(10_000),
});

const TRACING_DEFAULTS = { enabled: false, endpoint: 'http://localhost:4318/v1/traces', headers: {}, serviceName: 'gatehouse', sampleRatio: 1, exportTimeoutMs: 10_000 };

/** Prometheus `/metrics` on the HTTP server (`gatehouse serve`). */
const metricsSchema = z.strictObject({
  enabled: z.boolean().default(true),
  /**
   * Who may scrape. `auto`: anyone while `http.host` is a loopback address, an operator token
   * otherwise. `operator`: always an operator token. `none`: anyone who reaches the port.
   */
  auth: z.enum(['auto', 'operator', 'none']).default('auto'),
});

/** Seven years (7 × 365 + 2 leap days): the default life of an audit event. */
export const AUDIT_RETENTION_DEFAULT_DAYS = 2557;

export const AUDIT_DEFAULTS = {
  signingKeyFile: '.gatehouse/audit-signing-key.pem',
  deadLetterFile: '.gatehouse/dead-letters.jsonl',
  checkpointEveryEvents: 1000,
  checkpointEveryMs: 60_000,
  retention: { defaultDays: AUDIT_RETENTION_DEFAULT_DAYS, daysByType: {} },
};

/** Tamper evidence and retention of the audit events (docs/events.md). */
const auditSchema = z.strictObject({
  /**
   * The Ed25519 key that signs checkpoints (PKCS#8 PEM; created, mode 0600, when missing). Kept
   * outside the store on purpose; share the file among gateways on one database, or give
   * verifiers each gateway's public key.
   */
  signingKeyFile: z.string().min(1).default(AUDIT_DEFAULTS.signingKeyFile),
  /** Dead letters the store refused (e.g. events when the event store fails): JSON lines, read by `gatehouse dlq`. */
  deadLetterFile: z.string().min(1).default(AUDIT_DEFAULTS.deadLetterFile),
  /** A gateway signs a checkpoint after this many of its own events (0: not by count)… */
  checkpointEveryEvents: z.number().int().nonnegative().default(AUDIT_DEFAULTS.checkpointEveryEvents),
  /** …and every this often when it wrote events since its last one (0: not by time); and always at shutdown. */
  checkpointEveryMs: z.number().int().nonnegative().default(AUDIT_DEFAULTS.checkpointEveryMs),
  retention: z
    .strictObject({
      /** How long an event is kept before `gatehouse audit prune` may delete it. */
      defaultDays: z.number().positive().default(AUDIT_RETENTION_DEFAULT_DAYS),
      /** Per event type, overriding defaultDays. */
      daysByType: z.partialRecord(z.enum(EVENT_TYPES), z.number().positive()).default({}),
    })
    .default(AUDIT_DEFAULTS.retention),
});

export const configSchema = z
  .strictObject({
    /** Base folder for relative paths (store, server cwd); relative to the config file. */
    root: z.string().default('.'),
    store: storeSchema.default({ kind: 'sqlite', path: '.gatehouse/gatehouse.db', durability: 'process' }),
    http: z
      .strictObject({
        host: z.string().default('127.0.0.1'),
        port: z.number().int().min(0).max(65535).default(7700),
        maxBodyBytes: z.number().int().positive().default(4 * 1024 * 1024),
        /** Extra Host header values accepted besides the bound address and localhost. */
        allowedHosts: z.array(z.string()).default([]),
        /** Extra Origin values accepted besides http://localhost and http://127.0.0.1 on the bound port. */
        allowedOrigins: z.array(z.string()).default([]),
        sessionIdleMs: z.number().int().positive().default(30 * 60 * 1000),
        /** A POST still unanswered after this long becomes an SSE stream with a comment this often, so proxies keep it open. */
        keepAliveMs: z.number().int().positive().default(15_000),
        /** A request must arrive whole (headers and body) within this, or it is answered 408 and its connection closed. */
        requestTimeoutMs: z.number().int().min(1_000).default(66_000),
      })
      .default({
        host: '127.0.0.1',
        port: 7700,
        maxBodyBytes: 4 * 1024 * 1024,
        allowedHosts: [],
        allowedOrigins: [],
        sessionIdleMs: 30 * 60 * 1000,
        keepAliveMs: 15_000,
        requestTimeoutMs: 66_000,
      }),
    defaults: z
      .strictObject({
        idleTimeoutMs: z.number().int().positive().default(DOWNSTREAM_DEFAULTS.idleTimeoutMs),
        callTimeoutMs: z.number().int().positive().default(DOWNSTREAM_DEFAULTS.callTimeoutMs),
        startTimeoutMs: z.number().int().positive().default(DOWNSTREAM_DEFAULTS.startTimeoutMs),
        /** First restart delay after a crash; doubles per consecutive crash up to restartBackoffMaxMs. */
        restartBackoffMs: z.number().int().nonnegative().default(DOWNSTREAM_DEFAULTS.restartBackoffMs),
        restartBackoffMaxMs: z.number().int().nonnegative().default(DOWNSTREAM_DEFAULTS.restartBackoffMaxMs),
        /** Crashes in a row (no successful call between) after which a server is marked failed. */
        maxConsecutiveCrashes: z.number().int().positive().default(DOWNSTREAM_DEFAULTS.maxConsecutiveCrashes),
        circuitBreaker: circuitBreakerSchema.default(CIRCUIT_BREAKER_DEFAULTS),
        retry: retrySchema.default(RETRY_DEFAULTS),
        maxConcurrentCalls: z.number().int().positive().default(DOWNSTREAM_DEFAULTS.maxConcurrentCalls),
        maxQueuedCalls: z.number().int().nonnegative().default(DOWNSTREAM_DEFAULTS.maxQueuedCalls),
        maxRequestBytes: z.number().int().positive().default(DOWNSTREAM_DEFAULTS.maxRequestBytes),
        maxResultBytes: z.number().int().positive().default(DOWNSTREAM_DEFAULTS.maxResultBytes),
      })
      .default({ ...DOWNSTREAM_DEFAULTS, circuitBreaker: CIRCUIT_BREAKER_DEFAULTS, retry: RETRY_DEFAULTS }),
    servers: z.record(serverName, serverSchema),
    profiles: z.record(z.string().regex(/^[A-Za-z0-9_-]+$/, 'a profile name is letters, digits, - and _'), profileSchema),
    agents: z.record(z.string().min(1), agentSchema).default({}),
    operators: z.record(z.string().min(1), operatorSchema).default({}),
    governance: z
      .strictObject({
        /** How long a G3 confirm token stays valid after its preflight. */
        confirmTtlMs: z.number().int().positive().default(10 * 60 * 1000),
        /** How long the idempotency ledger keeps a key (at least a day is the norm). */
        idempotencyRetentionMs: z.number().int().positive().default(24 * 60 * 60 * 1000),
        /** How often a waiting call looks for a decision made by another process. */
        approvalPollMs: z.number().int().positive().default(200),
      })
      .default({ confirmTtlMs: 10 * 60 * 1000, idempotencyRetentionMs: 24 * 60 * 60 * 1000, approvalPollMs: 200 }),
    tracing: tracingSchema.default(TRACING_DEFAULTS),
    metrics: metricsSchema.default({ enabled: true, auth: 'auto' }),
    audit: auditSchema.default(AUDIT_DEFAULTS),
  });

/**
 * Checks between sections (an allow entry names a configured server, an agent a configured
 * profile). They run on the raw document, beside the schema rather than inside it, so that
 * they are reported together with shape errors instead of only after those are fixed.
 */
export function crossReferenceProblems(raw: unknown): Array<{ path: Array<string | number>; message: string }> {
  const problems: Array<{ path: Array<string | number>; message: string }> = [];
  const doc = asRecord(raw);
  const servers = asRecord(doc.servers);
  const profiles = asRecord(doc.profiles);
  for (const [profileName, profile] of Object.entries(profiles)) {
    const allow = asRecord(profile).allow;
    if (!Array.isArray(allow)) continue;
    allow.forEach((pattern, index) => {
      const problem = typeof pattern === 'string' ? checkAllowPattern(pattern, servers) : undefined;
      if (problem) problems.push({ path: ['profiles', profileName, 'allow', index], message: problem });
    });
  }
  for (const [agentName, agent] of Object.entries(asRecord(doc.agents))) {
    const names = asRecord(agent).profiles;
    if (!Array.isArray(names)) continue;
    names.forEach((profile, index) => {
      if (typeof profile === 'string' && !(profile in profiles)) {
        problems.push({ path: ['agents', agentName, 'profiles', index], message: `unknown profile "${profile}"` });
      }
    });
  }
  // One token, two agents: whoever holds it would open both agents' profiles. One token, two
  // operators: every decision made with it would be recorded as the later one's. (Two sources with
  // equal values, e.g. two variables, are found when the tokens are read: see tokens.ts.)
  for (const section of ['agents', 'operators'] as const) {
    const kind = section === 'agents' ? 'agent' : 'operator';
    const firstBySource = new Map<string, string>();
    for (const [holderName, holder] of Object.entries(asRecord(doc[section]))) {
      for (const key of ['tokenSha256', 'tokenEnv', 'tokenFile'] as const) {
        const value = asRecord(holder)[key];
        if (typeof value !== 'string') continue;
        const other = firstBySource.get(`${key}=${value}`);
        if (other) problems.push({ path: [section, holderName, key], message: `the same token as ${kind} "${other}": each ${kind} needs its own` });
        else firstBySource.set(`${key}=${value}`, holderName);
      }
    }
  }
  return problems;
}

function asRecord(value: unknown): Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value) ? (value as Record<string, unknown>) : {};
}

function checkAllowPattern(pattern: string, servers: Record<string, unknown>): string | undefined {
  const slash = pattern.indexOf('/');
  if (slash <= 0 || slash === pattern.length - 1 || pattern.indexOf('/', slash + 1) !== -1) {
    return `"${pattern}" is not of the form server/tool (globs allowed, e.g. "everything/*")`;
  }
  const serverPart = pattern.slice(0, slash);
  if (!serverPart.includes('*') && !serverPart.includes('?') && !(serverPart in servers)) {
    return `unknown server "${serverPart}"`;
  }
  return undefined;
}

export type GatehouseConfigInput = z.input<typeof configSchema>;
export type ParsedConfig = z.output<typeof configSchema>;
export type ServerConfig = z.output<typeof serverSchema>;
export type StdioServerConfig = z.output<typeof stdioServer>;
export type HttpServerConfig = z.output<typeof httpServer>;
export type ProfileConfig = z.output<typeof profileSchema>;
export type AgentConfig = z.output<typeof agentSchema>;
export type OperatorConfig = z.output<typeof operatorSchema>;
export type ApprovalConfig = z.output<typeof approvalSchema>;
export type TracingConfig = z.output<typeof tracingSchema>;
export type MetricsConfig = z.output<typeof metricsSchema>;
export type CircuitBreakerConfig = z.output<typeof circuitBreakerSchema>;
export type RetryConfig = z.output<typeof retrySchema>;
export type RateLimitConfig = z.output<typeof rateLimitSchema>;
export type ToolRuleConfig = z.output<typeof toolRule>;
export type AuditConfig = z.output<typeof auditSchema>;

export function isStdioServer(server: ServerConfig): server is StdioServerConfig {
  return 'command' in server;
}

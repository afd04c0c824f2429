import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { CallEnd, CallMetrics } from '../gateway/pipeline/telemetry.js';
import type { ServerState } from '../downstream/server-connection.js';

/** Seconds: from a cached G0 call (about a millisecond) to a G2 call that waited minutes for a human. */
export const LATENCY_BUCKETS_SECONDS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300];

const SERVER_STATES: readonly ServerState[] = ['stopped', 'starting', 'running', 'crashed', 'failed'];

/** closed 0, half_open 1, open 2: the usual encoding, so that `> 0` means "not healthy". */
export type CircuitState = 'closed' | 'half_open' | 'open';
const CIRCUIT_VALUE: Record<CircuitState, number> = { closed: 0, half_open: 1, open: 2 };

/** What the scrape-time gauges read, asked at each scrape (never per call). */
export interface GaugeSources {
  /** Approval requests still waiting for a human (pending and not yet past their expiry). */
  pendingApprovals(): number | Promise<number>;
  servers(): Array<{ name: string; transport: 'stdio' | 'http'; state: ServerState; circuit: CircuitState }>;
  /** Open upstream (agent) sessions of the HTTP server. */
  sessions(): number;
}

type CallLabels = 'server' | 'tool' | 'gate' | 'outcome';

/**
 * Prometheus metrics of one gateway, in a registry of its own. Per call: one counter increment
 * and one histogram observation, on label children cached by their values (prom-client would
 * otherwise hash the label object at every call). Everything else is read at scrape time.
 */
export class PrometheusMetrics implements CallMetrics {
  readonly registry = new Registry();
  private readonly calls: Counter<CallLabels>;
  private readonly latency: Histogram<'server' | 'gate' | 'outcome'>;
  private readonly children = new Map<string, { calls: Counter.Internal; latency: Histogram.Internal<'server' | 'gate' | 'outcome'> }>();

  constructor() {
    collectDefaultMetrics({ register: this.registry });
    this.calls = new Counter({
      name: 'gatehouse_tool_calls_total',
      help: 'Tool calls by downstream server, tool, gate and outcome (ok, tool_error, replay, held, denied, error). Server, tool and gate are empty for a call refused before its tool was resolved.',
      labelNames: ['server', 'tool', 'gate', 'outcome'],
      registers: [this.registry],
    });
    this.latency = new Histogram({
      name: 'gatehouse_tool_call_duration_seconds',
      help: 'Time from a tool call entering the pipeline to its outcome, including any wait for a human approval (the durationMs of its audit event).',
      labelNames: ['server', 'gate', 'outcome'],
      buckets: LATENCY_BUCKETS_SECONDS,
      registers: [this.registry],
    });
  }

  observe(end: CallEnd, seconds: number): void {
    const server = end.server ?? '';
    const tool = end.tool ?? '';
    const gate = end.gate ?? '';
    const key = `${server}\u0000${tool}\u0000${gate}\u0000${end.outcome}`;
    let child = this.children.get(key);
    if (!child) {
      child = { calls: this.calls.labels(server, tool, gate, end.outcome), latency: this.latency.labels(server, gate, end.outcome) };
      this.children.set(key, child);
    }
    child.calls.inc();
    child.latency.observe(seconds);
  }

  /** Registers the gauges that describe the gateway's state; they are read at scrape time. */
  watch(sources: GaugeSources): void {
    const registers = [this.registry];
    new Gauge({
      name: 'gatehouse_approvals_pending',
      help: 'Approval requests waiting for a human decision (read from the approval store at scrape time).',
      registers,
      async collect() {
        this.set(await sources.pendingApprovals());
      },
    });
    new Gauge({
      name: 'gatehouse_downstream_processes_running',
      help: 'Downstream stdio server processes running.',
      registers,
      collect() {
        this.set(sources.servers().filter((s) => s.transport === 'stdio' && s.state === 'running').length);
      },
    });
    new Gauge({
      name: 'gatehouse_server_state',
      help: 'State of each downstream server: 1 for its current state (stopped, starting, running, crashed, failed), 0 for the others.',
      labelNames: ['server', 'state'],
      registers,
      collect() {
        for (const server of sources.servers()) for (const state of SERVER_STATES) this.set({ server: server.name, state }, server.state === state ? 1 : 0);
      },
    });
    new Gauge({
      name: 'gatehouse_circuit_state',
      help: 'Circuit breaker of each downstream server: 0 closed, 1 half-open, 2 open.',
      labelNames: ['server'],
      registers,
      collect() {
        for (const server of sources.servers()) this.set({ server: server.name }, CIRCUIT_VALUE[server.circuit]);
      },
    });
    new Gauge({
      name: 'gatehouse_http_sessions',
      help: 'Open MCP sessions of agents over streamable HTTP.',
      registers,
      collect() {
        this.set(sources.sessions());
      },
    });
  }

  /** The exposition text and its content type. */
  async scrape(): Promise<{ contentType: string; body: string }> {
    return { contentType: this.registry.contentType, body: await this.registry.metrics() };
  }
}

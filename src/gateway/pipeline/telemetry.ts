import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import type { CallRequest } from './types.js';

export type StageName = 'authorize' | 'admit' | 'resolve' | 'validate' | 'govern' | 'forward';

/** How a call ended, as the audit event, the span and the metrics name it. */
export type CallOutcome = 'ok' | 'tool_error' | 'replay' | 'held' | 'denied' | 'error';

/** What the pipeline knows when a call ends. Server, tool and gate are unknown when it ended before them. */
export interface CallEnd {
  outcome: CallOutcome;
  server: string | undefined;
  /** The server's own name of the tool. */
  tool: string | undefined;
  gate: string | undefined;
  /** The stage the call ended in: the failing stage of an error. */
  stage: StageName;
  /** The GH_ code of a call that did not end `ok`, `tool_error` or `replay`. */
  code?: string;
  message?: string;
}

/**
 * The trace of one call. The pipeline tells it where the call is; an implementation turns that
 * into spans. The no-op one (tracing off) does nothing, so the call path pays a few empty calls.
 */
export interface CallTrace {
  /** The call moved on to a stage that runs under the call itself. */
  stage(name: Exclude<StageName, 'forward'>): void;
  /** The govern stage runs the tool: the forward stage, under the stage in progress (govern). */
  forward(server: string, tool: string): ForwardTrace;
  end(end: CallEnd): void;
}

/** The forward stage and its downstream request. */
export interface ForwardTrace {
  /**
   * The `_meta` of the downstream request: the client's, with this call's trace context in
   * place of the agent's (`traceparent`, `tracestate`), so that the server's spans join the trace.
   */
  meta(meta: Record<string, unknown> | undefined): Record<string, unknown> | undefined;
  /** The downstream answer, or the failure (a GatehouseError) it became. */
  end(result: CallToolResult | undefined, failure?: { code: string; message: string }): void;
}

/** Starts the trace of a call; the client's `_meta` may carry its W3C trace context. */
export interface CallTracing {
  start(request: CallRequest): CallTrace;
}

/** Counts and times calls: one counter increment and one histogram observation per call. */
export interface CallMetrics {
  observe(end: CallEnd, seconds: number): void;
}

const NO_FORWARD: ForwardTrace = {
  meta: (meta) => meta,
  end: () => undefined,
};

const NO_TRACE: CallTrace = {
  stage: () => undefined,
  forward: () => NO_FORWARD,
  end: () => undefined,
};

/** Tracing off: one shared object, nothing allocated per call; the client's `_meta` goes downstream unchanged. */
export const NO_TRACING: CallTracing = { start: () => NO_TRACE };

/** Metrics off (e.g. `gatehouse connect`, which has no /metrics to scrape). */
export const NO_METRICS: CallMetrics = { observe: () => undefined };

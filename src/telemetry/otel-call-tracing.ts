import { ROOT_CONTEXT, SpanKind, SpanStatusCode, trace, type Context, type Span, type TextMapPropagator, type Tracer } from '@opentelemetry/api';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import type { CallEnd, CallTrace, CallTracing, ForwardTrace, StageName } from '../gateway/pipeline/telemetry.js';
import type { CallRequest } from '../gateway/pipeline/types.js';

/** Span attribute names: the MCP semantic conventions where they have one, `gatehouse.*` for the rest. */
export const ATTR = {
  method: 'mcp.method.name',
  session: 'mcp.session.id',
  operation: 'gen_ai.operation.name',
  toolName: 'gen_ai.tool.name',
  errorType: 'error.type',
  agent: 'gatehouse.agent',
  profile: 'gatehouse.profile',
  via: 'gatehouse.via',
  server: 'gatehouse.server',
  tool: 'gatehouse.tool',
  gate: 'gatehouse.gate',
  outcome: 'gatehouse.outcome',
  stage: 'gatehouse.stage',
  code: 'gatehouse.error.code',
} as const;

/** Status messages are for people reading a trace; arguments never go into a span. */
const MAX_STATUS_MESSAGE = 300;

/** The outcomes that mark the call span as failed: `held` is the gate working as intended. */
const FAILED = new Set(['tool_error', 'denied', 'error']);

type MetaCarrier = Record<string, unknown>;

const metaGetter = {
  keys: (carrier: MetaCarrier) => Object.keys(carrier),
  get: (carrier: MetaCarrier, key: string) => {
    const value = carrier[key];
    return typeof value === 'string' ? value : undefined;
  },
};

const metaSetter = {
  set: (carrier: MetaCarrier, key: string, value: string) => {
    carrier[key] = value;
  },
};

/**
 * Tool calls as OpenTelemetry spans: `tools/call <tool>` (SERVER) in the agent's trace when its
 * `_meta` carries a W3C `traceparent`, a child per stage (`gatehouse.authorize` … `gatehouse.govern`),
 * `gatehouse.forward` under govern, and `tools/call <tool>` (CLIENT) under forward, whose context
 * is what the downstream server receives in its `_meta`. Parents are passed explicitly: no
 * context manager, no global provider.
 */
export class OtelCallTracing implements CallTracing {
  private readonly propagator: TextMapPropagator = new W3CTraceContextPropagator();

  constructor(private readonly tracer: Tracer) {}

  start(request: CallRequest): CallTrace {
    const meta = request.meta;
    const parent = meta && typeof meta.traceparent === 'string' ? this.propagator.extract(ROOT_CONTEXT, meta, metaGetter) : ROOT_CONTEXT;
    const span = this.tracer.startSpan(
      `tools/call ${request.name}`,
      {
        kind: SpanKind.SERVER,
        attributes: {
          [ATTR.method]: 'tools/call',
          [ATTR.operation]: 'execute_tool',
          [ATTR.toolName]: request.name,
          [ATTR.session]: request.caller.session,
          [ATTR.agent]: request.caller.agent.name,
          [ATTR.profile]: request.caller.profile.name,
          [ATTR.via]: request.via,
        },
      },
      parent,
    );
    return new OtelCallTrace(this.tracer, this.propagator, span, trace.setSpan(parent, span));
  }
}

class OtelCallTrace implements CallTrace {
  private stageSpan: Span | undefined;
  private stageContext: Context;

  constructor(
    private readonly tracer: Tracer,
    private readonly propagator: TextMapPropagator,
    private readonly span: Span,
    private readonly callContext: Context,
  ) {
    this.stageContext = callContext;
  }

  stage(name: Exclude<StageName, 'forward'>): void {
    this.stageSpan?.end();
    this.stageSpan = this.tracer.startSpan(`gatehouse.${name}`, { kind: SpanKind.INTERNAL }, this.callContext);
    this.stageContext = trace.setSpan(this.callContext, this.stageSpan);
  }

  forward(server: string, tool: string): ForwardTrace {
    const forward = this.tracer.startSpan('gatehouse.forward', { kind: SpanKind.INTERNAL, attributes: { [ATTR.server]: server, [ATTR.tool]: tool } }, this.stageContext);
    const forwardContext = trace.setSpan(this.stageContext, forward);
    const client = this.tracer.startSpan(
      `tools/call ${tool}`,
      {
        kind: SpanKind.CLIENT,
        attributes: { [ATTR.method]: 'tools/call', [ATTR.toolName]: tool, [ATTR.server]: server },
      },
      forwardContext,
    );
    return new OtelForwardTrace(this.propagator, forward, client, trace.setSpan(forwardContext, client));
  }

  end(end: CallEnd): void {
    const span = this.span;
    if (end.server !== undefined) span.setAttribute(ATTR.server, end.server);
    if (end.tool !== undefined) span.setAttribute(ATTR.tool, end.tool);
    if (end.gate !== undefined) span.setAttribute(ATTR.gate, end.gate);
    span.setAttribute(ATTR.outcome, end.outcome);
    span.setAttribute(ATTR.stage, end.stage);
    if (end.code !== undefined) span.setAttribute(ATTR.code, end.code);
    if (FAILED.has(end.outcome)) {
      span.setAttribute(ATTR.errorType, end.outcome === 'tool_error' ? 'tool_error' : end.code ?? end.outcome);
      const status = { code: SpanStatusCode.ERROR, message: statusMessage(end.code, end.message) };
      span.setStatus(status);
      // The stage the call failed in carries the failure too; a held call failed in none.
      if (end.outcome !== 'tool_error') this.stageSpan?.setStatus(status);
    }
    this.stageSpan?.end();
    span.end();
  }
}

class OtelForwardTrace implements ForwardTrace {
  constructor(
    private readonly propagator: TextMapPropagator,
    private readonly forward: Span,
    private readonly client: Span,
    private readonly clientContext: Context,
  ) {}

  meta(meta: Record<string, unknown> | undefined): Record<string, unknown> | undefined {
    const carrier: MetaCarrier = { ...meta };
    // The agent's own trace context is replaced (not merged): the server's parent is this request.
    delete carrier.traceparent;
    delete carrier.tracestate;
    this.propagator.inject(this.clientContext, carrier, metaSetter);
    return carrier;
  }

  end(result: CallToolResult | undefined, failure?: { code: string; message: string }): void {
    if (failure) {
      const status = { code: SpanStatusCode.ERROR, message: statusMessage(failure.code, failure.message) };
      this.client.setAttribute(ATTR.errorType, failure.code);
      this.client.setStatus(status);
      this.forward.setStatus(status);
    } else if (result?.isError) {
      this.client.setAttribute(ATTR.errorType, 'tool_error');
      this.client.setStatus({ code: SpanStatusCode.ERROR, message: 'the tool answered isError: true' });
    }
    this.client.end();
    this.forward.end();
  }
}

function statusMessage(code: string | undefined, message: string | undefined): string {
  const text = [code, message].filter(Boolean).join(': ');
  return text.length > MAX_STATUS_MESSAGE ? `${text.slice(0, MAX_STATUS_MESSAGE - 1)}…` : text;
}

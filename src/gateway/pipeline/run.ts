import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { GatehouseError, isGatehouseError, type ErrorCode } from '../../core/errors.js';
import type { CALL_OUTCOME_EVENT_TYPES } from '../../core/events.js';
import { newRunId } from '../../core/run-id.js';
import type { EventOutbox } from '../event-outbox.js';
import type { ServerConnection } from '../../downstream/server-connection.js';
import { NO_CONTROL, splitControlArguments } from '../../governance/control-arguments.js';
import type { PinBook } from '../../governance/pin-book.js';
import type { Catalog } from '../catalog.js';
import { authorize } from './authorize.js';
import { resolve, resolveKnown } from './resolve.js';
import type { ArgumentValidator } from './validate.js';
import { govern, type GovernanceDeps } from './govern.js';
import { checkRequestSize, protect } from './protect.js';
import type { Resilience } from '../../resilience/resilience.js';
import type { CallRequest, ResolvedCall } from './types.js';
import type { CallEnd, CallMetrics, CallOutcome, CallTrace, CallTracing, StageName } from './telemetry.js';
import { GATEWAY_PROCESS } from '../../governance/crash-recovery.js';

export interface PipelineDeps {
  catalog: Catalog;
  pins: PinBook;
  validator: ArgumentValidator;
  governance: GovernanceDeps;
  connections: ReadonlyMap<string, ServerConnection>;
  audit: EventOutbox;
  /** Spans per call and stage; NO_TRACING when tracing is off. */
  tracing: CallTracing;
  /** Calls by server, tool, gate and outcome, and their latency; NO_METRICS without /metrics. */
  metrics: CallMetrics;
  resilience: Resilience;
}

/** Outcomes where the gate held the call back on purpose: nothing ran, and nothing failed. */
const HELD = new Set<ErrorCode>(['GH_DRY_RUN', 'GH_CONFIRM_REQUIRED', 'GH_APPROVAL_PENDING']);

/** Refusals by governance, recorded as policy.denied. */
const DENIED = new Set<ErrorCode>([
  'GH_TOOL_QUARANTINED',
  'GH_APPROVAL_REJECTED',
  'GH_APPROVAL_TIMEOUT',
  'GH_APPROVAL_EXPIRED',
  'GH_APPROVAL_MISMATCH',
  'GH_APPROVAL_USED',
  'GH_APPROVAL_UNKNOWN',
  'GH_CONFIRM_INVALID',
  'GH_IDEMPOTENCY_MISMATCH',
  'GH_IDEMPOTENCY_CONFLICT',
  'GH_OUTCOME_UNKNOWN',
]);

/** Whether governance held the call back or refused it (nothing failed downstream). */
export function isRefusal(code: ErrorCode): boolean {
  return HELD.has(code) || DENIED.has(code);
}

/**
 * The call pipeline: authorize → admit (rate limit) → resolve → validate → govern → forward
 * (protected: bulkhead, circuit breaker, timeout, safe retries). A `tool.call.requested` event
 * opens the run and exactly one outcome event closes it, whatever happened; both carry the run id
 * (the runs view joins them). Eager tools/call and the lazy call_tool meta-tool both come here.
 */
export async function runCall(deps: PipelineDeps, request: CallRequest): Promise<CallToolResult> {
  const startedAt = new Date();
  const started = performance.now();
  const runId = newRunId(startedAt.getTime());
  // Not awaited here: the outbox writes in order, so it is committed with (or before) the outcome
  // event, which is awaited; a long call's shows within 100 ms; a call above G0 waits for it
  // before it goes downstream (below).
  deps.audit.enqueue({
    type: 'tool.call.requested',
    at: startedAt.toISOString(),
    agent: request.caller.agent.name,
    profile: request.caller.profile.name,
    tool: request.name,
    payload: { runId, via: request.via, session: request.caller.session, gateway: GATEWAY_PROCESS },
  });
  const trace = deps.tracing.start(request);
  let stage: StageName = 'authorize';
  const enter = (next: Exclude<StageName, 'forward'>) => {
    stage = next;
    trace.stage(next);
  };
  let resolved: ResolvedCall | undefined;
  let gate: string | undefined;
  try {
    trace.stage('authorize');
    authorize(request);
    enter('admit');
    deps.resilience.rateLimiter.admit(request.caller.agent.name, request.caller.profile.name);
    enter('resolve');
    resolved = resolveKnown(request, deps.catalog) ?? (await resolve(request, deps.catalog));
    deps.pins.refuseQuarantined(resolved.server, resolved.tool.name, request.name);
    enter('validate');
    const gateDecision = deps.governance.gates.gateOf(resolved.server, resolved.tool);
    gate = gateDecision.gate;
    const split = gate === 'G2' || gate === 'G3' ? splitControlArguments(resolved.arguments, resolved.tool) : { arguments: resolved.arguments, control: NO_CONTROL };
    const call = { ...resolved, arguments: split.arguments };
    deps.validator.validate(call);
    checkRequestSize(call, deps.resilience.guard(call.server).maxRequestBytes);
    enter('govern');
    const connection = deps.connections.get(call.server)!;
    const governed = await govern(deps.governance, { ...call, gate: gateDecision, control: split.control }, async (args) => {
      stage = 'forward';
      // Write-ahead for a call that may change something: killed from here on, the gateway leaves
      // its run open in the store, and the next one closes it (GH_GATEWAY_STOPPED). A G0 call's
      // first event rides with its outcome: it changes nothing, and this would cost it a commit.
      if (gateDecision.gate !== 'G0') await deps.audit.writtenSoFar();
      return protect({ resilience: deps.resilience, record: deps.governance.record }, { ...call, arguments: args }, gateDecision.gate, connection, trace);
    });
    const outcome = governed.replay ? 'replay' : governed.result.isError ? 'tool_error' : 'ok';
    await finish(deps, request, trace, { runId, startedAt, started }, { outcome, server: resolved.server, tool: resolved.tool.name, gate, stage });
    return governed.result;
  } catch (error) {
    const failure = isGatehouseError(error)
      ? error
      : new GatehouseError('GH_DOWNSTREAM_ERROR', (error as Error).message, {}, { cause: error });
    const outcome = HELD.has(failure.code) ? 'held' : DENIED.has(failure.code) ? 'denied' : 'error';
    // A preflight may have run the tool's own dry run (stage forward), but the gate held the call.
    if (outcome === 'held') stage = 'govern';
    await finish(deps, request, trace, { runId, startedAt, started }, {
      outcome,
      server: resolved?.server,
      tool: resolved?.tool.name,
      gate,
      stage,
      code: failure.code,
      message: failure.message,
    });
    throw failure;
  }
}

const EVENT_OF: Record<CallOutcome, (typeof CALL_OUTCOME_EVENT_TYPES)[number]> = {
  ok: 'tool.call.succeeded',
  tool_error: 'tool.call.succeeded',
  replay: 'tool.call.succeeded',
  held: 'tool.call.held',
  denied: 'policy.denied',
  error: 'tool.call.failed',
};

/** The audit event (awaited), the metrics and the end of the call's span, whatever the outcome. */
async function finish(deps: PipelineDeps, request: CallRequest, trace: CallTrace, run: { runId: string; startedAt: Date; started: number }, end: CallEnd): Promise<void> {
  const seconds = (performance.now() - run.started) / 1000;
  deps.metrics.observe(end, seconds);
  try {
    // Awaited before the agent gets its answer: an acknowledged call's event is committed.
    await deps.audit.append({
      type: EVENT_OF[end.outcome],
      at: run.startedAt.toISOString(),
      agent: request.caller.agent.name,
      profile: request.caller.profile.name,
      server: end.server,
      tool: end.tool ?? request.name,
      payload: {
        runId: run.runId,
        via: request.via,
        session: request.caller.session,
        gate: end.gate ?? null,
        durationMs: Math.round(seconds * 1_000_000) / 1000,
        outcome: end.outcome,
        ...(end.code === undefined ? {} : { stage: end.stage, code: end.code, message: end.message }),
      },
    });
  } finally {
    trace.end(end);
  }
}

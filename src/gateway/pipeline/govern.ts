import { randomBytes } from 'node:crypto';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { argumentFingerprint, bindingHash } from '../../core/binding.js';
import { GatehouseError } from '../../core/errors.js';
import type { ConfirmTokens } from '../../core/confirm-token.js';
import type { Gate, GateDecision } from '../../core/gates.js';
import type { ApprovalRequest } from '../../ports/approval-store.js';
import type { IdempotencyLedger } from '../../ports/idempotency-ledger.js';
import type { ReviewStore } from '../../ports/review-store.js';
import type { RecordEvent } from '../../core/events.js';
import type { ApprovalDesk } from '../../governance/approval-desk.js';
import { declares, type ControlArguments } from '../../governance/control-arguments.js';
import type { GateBook } from '../../governance/gate-book.js';
import { ExecutionStarted, runOnce } from '../../governance/idempotent-run.js';
import { elicitApproval } from '../../governance/elicit-approval.js';
import type { ResolvedCall } from './types.js';

/**
 * Whether an agent's calls at a gate need a human. Trust levels (TL0–TL4) plug in here; until
 * they exist every G2/G3 call does.
 */
export type TrustPolicy = (agent: string, gate: Gate) => { approvalRequired: boolean };

export const ALWAYS_ASK_A_HUMAN: TrustPolicy = () => ({ approvalRequired: true });

export interface GovernanceDeps {
  gates: GateBook;
  desk: ApprovalDesk;
  ledger: IdempotencyLedger;
  reviews: ReviewStore;
  confirmTokens: ConfirmTokens;
  trust: TrustPolicy;
  settings: { confirmTtlMs: number; idempotencyRetentionMs: number };
  record: RecordEvent;
  /** This process as an idempotency key's owner ("host:pid:start"): see crash-recovery.ts. */
  owner: string;
}

/** A validated call with its gate and the control arguments the agent added. */
export interface GovernedCall extends ResolvedCall {
  gate: GateDecision;
  control: ControlArguments;
}

export type Execute = (args: Record<string, unknown>) => Promise<CallToolResult>;

export interface Governed {
  result: CallToolResult;
  /** True when the result is the stored outcome of an earlier execution. */
  replay: boolean;
}

/** The `_meta` key under which a client passes its idempotency key. */
export const IDEMPOTENCY_META_KEY = 'gatehouse/idempotencyKey';

const PROGRESS_EVERY_MS = 5_000;

/**
 * Stage 4, governance: G0 runs; G1 runs and leaves a review item; G2 waits for (or asks the
 * agent to come back with) a human approval; G3 is a two-step commit: a preflight with a
 * signed confirm token, then a confirm that executes once. `dry_run` on G2+ only plans.
 * Keyed calls (a client key, or one the gate derives) go through the idempotency ledger.
 */
export async function govern(deps: GovernanceDeps, call: GovernedCall, execute: Execute): Promise<Governed> {
  const gate = call.gate.gate;
  const clientKey = idempotencyKeyOf(call.meta);
  // A read without a key has nothing to record or wait for: the commonest call, kept short.
  if (gate === 'G0' && !clientKey) return { result: await execute(call.arguments), replay: false };
  const ctx = contextOf(deps, call);
  if (call.control.dryRun && (gate === 'G2' || gate === 'G3')) throw await dryRun(deps, ctx, call, execute);
  const run = async (execution: ExecutionStarted) => {
    await execution.begin();
    return execute(call.arguments);
  };
  let fingerprint: string | undefined;
  const fingerprintOf = () => (fingerprint ??= argumentFingerprint(call.arguments));
  const keyed = (key: string, body: (execution: ExecutionStarted) => Promise<CallToolResult>) =>
    runOnce(deps.ledger, { ...ctx.keyScope, key, fingerprint: fingerprintOf() }, deps.record, body);
  const unkeyed = async (body: (execution: ExecutionStarted) => Promise<CallToolResult>) => ({ result: await body(new ExecutionStarted()), replay: false });
  const maybeKeyed = (body: (execution: ExecutionStarted) => Promise<CallToolResult>) => (clientKey ? keyed(clientKey, body) : unkeyed(body));

  switch (gate) {
    case 'G0':
      return maybeKeyed(run);
    case 'G1': {
      const governed = await keyed(clientKey ?? `derived:${fingerprintOf()}`, run);
      if (!governed.replay) await requestReview(deps, call, governed.result);
      return governed;
    }
    case 'G2': {
      if (!deps.trust(ctx.agent, 'G2').approvalRequired) return maybeKeyed(run);
      const approvalId = call.control.approvalId;
      if (approvalId) {
        return keyed(clientKey ?? `approval:${approvalId}`, async (execution) => {
          await useGrant(deps, ctx, call, approvalId, false);
          return run(execution);
        });
      }
      const wait = call.caller.profile.approval.mode === 'wait';
      if (clientKey) {
        return keyed(clientKey, async (execution) => {
          const approval = await requestApproval(deps, ctx, call, `gate G2 (${call.gate.source})`);
          await useGrant(deps, ctx, call, approval.id, wait);
          return run(execution);
        });
      }
      // Keyed by the approval it asks for, as a later call with that approval_id is: a call that
      // waited for its approval and was in flight when the gateway died is an unknown commit.
      const approval = await requestApproval(deps, ctx, call, `gate G2 (${call.gate.source})`);
      return keyed(`approval:${approval.id}`, async (execution) => {
        await useGrant(deps, ctx, call, approval.id, wait);
        return run(execution);
      });
    }
    case 'G3':
      return commit(deps, ctx, call, execute, run, keyed);
  }
}

interface CallContext {
  agent: string;
  profile: string;
  /** `server/tool`. */
  toolId: string;
  planHash: string;
  keyScope: { agent: string; profile: string; server: string; tool: string; retentionMs: number; owner: string };
}

function contextOf(deps: GovernanceDeps, call: GovernedCall): CallContext {
  const agent = call.caller.agent.name;
  const profile = call.caller.profile.name;
  const toolId = `${call.server}/${call.tool.name}`;
  // Only approvals and commits are bound to the call; a G0 call should not pay for hashing it.
  const gated = call.gate.gate === 'G2' || call.gate.gate === 'G3';
  const planHash = gated ? bindingHash({ tool: toolId, arguments: call.arguments, agent, profile, policyVersion: deps.gates.policyVersion }) : '';
  return { agent, profile, toolId, planHash, keyScope: { agent, profile, server: call.server, tool: toolId, retentionMs: deps.settings.idempotencyRetentionMs, owner: deps.owner } };
}

function idempotencyKeyOf(meta: Record<string, unknown> | undefined): string | undefined {
  const key = meta?.[IDEMPOTENCY_META_KEY];
  if (key === undefined) return undefined;
  if (typeof key !== 'string' || key.length === 0 || key.length > 255) {
    throw new GatehouseError('GH_INVALID_ARGUMENTS', `_meta["${IDEMPOTENCY_META_KEY}"] must be a string of 1 to 255 characters`, { problems: 'idempotency key' });
  }
  return key;
}

/** G3: without confirm a preflight; with confirm "SEND" and a valid token, the one execution. */
async function commit(
  deps: GovernanceDeps,
  ctx: CallContext,
  call: GovernedCall,
  execute: Execute,
  run: (execution: ExecutionStarted) => Promise<CallToolResult>,
  keyed: (key: string, body: (execution: ExecutionStarted) => Promise<CallToolResult>) => Promise<Governed>,
): Promise<Governed> {
  const { confirm, confirmToken } = call.control;
  if (confirm === undefined && confirmToken === undefined) throw await preflight(deps, ctx, call, execute);
  if (confirm !== 'SEND' || confirmToken === undefined) {
    throw new GatehouseError('GH_CONFIRM_INVALID', 'the second step needs both confirm: "SEND" and the confirm_token of the preflight', { why: 'incomplete' });
  }
  const claims = deps.confirmTokens.verify(confirmToken, { planHash: ctx.planHash, agent: ctx.agent, profile: ctx.profile, now: Date.now() });
  return keyed(`preflight:${claims.preflight}`, async (execution) => {
    if (claims.approval) await useGrant(deps, ctx, call, claims.approval, call.caller.profile.approval.mode === 'wait');
    const result = await run(execution);
    deps.record({
      type: 'commit.executed',
      agent: ctx.agent,
      profile: ctx.profile,
      server: call.server,
      tool: call.tool.name,
      payload: { preflight: claims.preflight, planHash: ctx.planHash, approval: claims.approval ?? null, isError: result.isError === true },
    });
    return result;
  });
}

async function preflight(deps: GovernanceDeps, ctx: CallContext, call: GovernedCall, execute: Execute): Promise<GatehouseError> {
  const preflightId = `pf_${randomBytes(10).toString('hex')}`;
  const approvalRequired = deps.trust(ctx.agent, 'G3').approvalRequired;
  const approval = approvalRequired ? await requestApproval(deps, ctx, call, `gate G3 (${call.gate.source}): two-step commit ${preflightId}`) : undefined;
  const expiresAt = Date.now() + deps.settings.confirmTtlMs;
  const confirmToken = deps.confirmTokens.issue({
    preflight: preflightId,
    planHash: ctx.planHash,
    agent: ctx.agent,
    profile: ctx.profile,
    ...(approval ? { approval: approval.id } : {}),
    expiresAt,
  });
  const plan = await planOf(deps, ctx, call, execute, approvalRequired);
  deps.record({
    type: 'preflight.issued',
    agent: ctx.agent,
    profile: ctx.profile,
    server: call.server,
    tool: call.tool.name,
    payload: { preflight: preflightId, planHash: ctx.planHash, approval: approval?.id ?? null, expiresAt: new Date(expiresAt).toISOString() },
  });
  const steps = [
    ...(approval ? [`a human must approve request ${approval.id} (gatehouse approvals approve ${approval.id})`] : []),
    `call "${call.name}" again with exactly the same arguments plus confirm: "SEND" and confirm_token: "${confirmToken}" (valid until ${new Date(expiresAt).toISOString()})`,
  ];
  return new GatehouseError(
    'GH_CONFIRM_REQUIRED',
    `preflight only, nothing was executed. To execute: ${steps.join('; then ')}.\nPlan: ${JSON.stringify(plan)}`,
    { preflight: preflightId, confirmToken, approvalId: approval?.id ?? null, expiresAt: new Date(expiresAt).toISOString(), plan },
  );
}

async function dryRun(deps: GovernanceDeps, ctx: CallContext, call: GovernedCall, execute: Execute): Promise<GatehouseError> {
  const approvalRequired = deps.trust(ctx.agent, call.gate.gate).approvalRequired;
  const plan = await planOf(deps, ctx, call, execute, approvalRequired);
  return new GatehouseError('GH_DRY_RUN', `dry run, nothing was executed.\nPlan: ${JSON.stringify(plan)}`, { plan });
}

/** What would happen: the validated arguments, their digest, the decision, and the tool's own dry run when it has one. */
async function planOf(deps: GovernanceDeps, ctx: CallContext, call: GovernedCall, execute: Execute, approvalRequired: boolean): Promise<Record<string, unknown>> {
  const { gate, source } = call.gate;
  const steps = gate === 'G3' ? ['preflight', ...(approvalRequired ? ['human approval'] : []), 'confirm "SEND"'] : approvalRequired ? ['human approval'] : [];
  let toolDryRun: CallToolResult | { error: string } | null = null;
  if (declares(call.tool, 'dry_run')) {
    try {
      toolDryRun = await execute({ ...call.arguments, dry_run: true });
    } catch (error) {
      toolDryRun = { error: (error as Error).message };
    }
  }
  return {
    tool: call.name,
    server: call.server,
    arguments: call.arguments,
    digest: ctx.planHash,
    policyVersion: deps.gates.policyVersion,
    decision: { gate, source, steps },
    toolDryRun,
  };
}

function requestApproval(deps: GovernanceDeps, ctx: CallContext, call: GovernedCall, reason: string): Promise<ApprovalRequest> {
  const now = Date.now();
  return deps.desk.request({
    server: call.server,
    tool: call.tool.name,
    exposedName: call.name,
    arguments: call.arguments,
    agent: ctx.agent,
    profile: ctx.profile,
    gate: call.gate.gate,
    reason,
    bindingHash: ctx.planHash,
    policyVersion: deps.gates.policyVersion,
    requestedAt: new Date(now).toISOString(),
    expiresAt: new Date(now + call.caller.profile.approval.timeoutMs).toISOString(),
  });
}

/**
 * Uses a grant once: it must be this agent's request, for exactly this call under this
 * policy, approved, unexpired and unused. A pending request is waited on (wait mode) or
 * answered with GH_APPROVAL_PENDING (return mode).
 */
async function useGrant(deps: GovernanceDeps, ctx: CallContext, call: GovernedCall, id: string, wait: boolean): Promise<void> {
  let request = await deps.desk.get(id);
  const mismatch = (why: string) => new GatehouseError('GH_APPROVAL_MISMATCH', `approval ${id} does not cover this call: ${why}`, { approval: id, why });
  if (request.agent !== ctx.agent || request.profile !== ctx.profile) throw mismatch(`it was requested by agent "${request.agent}" on profile "${request.profile}"`);
  if (`${request.server}/${request.tool}` !== ctx.toolId) throw mismatch(`it was requested for tool "${request.exposedName}"`);
  if (request.policyVersion !== deps.gates.policyVersion) throw mismatch('the policy changed since it was requested; call again for a new request');
  if (request.bindingHash !== ctx.planHash) throw mismatch('the arguments differ from the ones it was requested for');
  if (request.status === 'pending') {
    if (!wait) throw pending(request, call);
    request = await waitWithProgress(deps, request, call);
  }
  const decided = `${request.decidedBy ?? 'a human'}${request.decisionReason ? `: ${request.decisionReason}` : ''}`;
  switch (request.status) {
    case 'rejected':
      throw new GatehouseError('GH_APPROVAL_REJECTED', `approval ${id} was rejected by ${decided}`, { approval: id, by: request.decidedBy ?? null, reason: request.decisionReason ?? null });
    case 'expired':
      throw wait
        ? new GatehouseError('GH_APPROVAL_TIMEOUT', `no one decided approval ${id} before ${request.expiresAt}; the call is denied`, { approval: id, expiresAt: request.expiresAt })
        : new GatehouseError('GH_APPROVAL_EXPIRED', `approval ${id} expired undecided at ${request.expiresAt}`, { approval: id });
    case 'consumed':
      throw new GatehouseError('GH_APPROVAL_USED', `approval ${id} was already used at ${request.consumedAt}`, { approval: id });
    default:
      break;
  }
  if (await deps.desk.consume(id, ctx.planHash)) return;
  const now = await deps.desk.get(id);
  if (now.status === 'approved' && now.grantExpiresAt && now.grantExpiresAt <= new Date().toISOString()) {
    throw new GatehouseError('GH_APPROVAL_EXPIRED', `the grant of approval ${id} expired at ${now.grantExpiresAt}; call again for a new request`, { approval: id });
  }
  throw new GatehouseError('GH_APPROVAL_USED', `approval ${id} was already used`, { approval: id });
}

function pending(request: ApprovalRequest, call: GovernedCall): GatehouseError {
  const queued = call.caller.profile.approval.mode === 'queue' && request.gate === 'G2';
  const next = queued
    ? `Once it is approved the gateway runs it; to read its outcome, call "${call.name}" again with the same arguments plus approval_id: "${request.id}".`
    : `Once it is approved, call "${call.name}" again with the same arguments plus approval_id: "${request.id}".`;
  return new GatehouseError('GH_APPROVAL_PENDING', `not executed: approval ${request.id} waits for a human (until ${request.expiresAt}). ${next}`, {
    approvalId: request.id,
    expiresAt: request.expiresAt,
    queued,
  });
}

/**
 * Waits for the decision, telling a client that asked for progress that the call is alive.
 * With `approval.elicit` on and a client that supports elicitation, the person at the client
 * is asked too; whichever decision comes first counts.
 */
async function waitWithProgress(deps: GovernanceDeps, request: ApprovalRequest, call: GovernedCall): Promise<ApprovalRequest> {
  let beats = 0;
  const timer = call.onProgress
    ? setInterval(() => call.onProgress?.({ progress: ++beats, message: `waiting for a human to decide approval ${request.id}` }), PROGRESS_EVERY_MS)
    : undefined;
  const stopAsking = new AbortController();
  const caller = call.caller.downstreamCaller;
  if (call.caller.profile.approval.elicit && caller.capabilities?.elicitation) {
    void elicitApproval(caller, request, stopAsking.signal).then(async (decision) => {
      if (!decision || stopAsking.signal.aborted) return;
      try {
        await deps.desk.decide(request.id, {
          approved: decision.approved,
          by: `${request.agent}'s client user (elicitation)`,
          reason: decision.reason,
        });
      } catch {
        // decided through another channel first, or expired: the wait below reports it
      }
    });
  }
  try {
    return await deps.desk.waitForDecision(request.id, call.cancel?.signal);
  } finally {
    stopAsking.abort();
    if (timer) clearInterval(timer);
  }
}

async function requestReview(deps: GovernanceDeps, call: GovernedCall, result: CallToolResult): Promise<void> {
  const text = result.content
    .map((part) => (part.type === 'text' ? part.text : `[${part.type}]`))
    .join(' ')
    .slice(0, 500);
  const item = await deps.reviews.add({
    at: new Date().toISOString(),
    agent: call.caller.agent.name,
    profile: call.caller.profile.name,
    server: call.server,
    tool: call.tool.name,
    arguments: call.arguments,
    outcome: result.isError ? 'tool_error' : 'ok',
    summary: text,
  });
  deps.record({
    type: 'review.requested',
    agent: item.agent,
    profile: item.profile,
    server: item.server,
    tool: item.tool,
    payload: { review: item.id, outcome: item.outcome },
  });
}

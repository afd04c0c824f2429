import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { argumentFingerprint } from '../core/binding.js';
import { GatehouseError, isGatehouseError } from '../core/errors.js';
import type { DownstreamCaller } from '../downstream/caller-registry.js';
import { processOwner } from '../governance/crash-recovery.js';
import { runOnce } from '../governance/idempotent-run.js';
import type { ApprovalRequest } from '../ports/approval-store.js';
import type { DeadLetter } from '../ports/dead-letter-store.js';
import type { Gateway } from './gateway.js';
import { protect } from './pipeline/protect.js';
import { isRefusal, runCall } from './pipeline/run.js';
import { NO_TRACING } from './pipeline/telemetry.js';
import type { CallerContext, CallRequest } from './pipeline/types.js';

/** How often a gateway looks for approved calls of `queue` profiles to run. */
export const APPROVED_CALLS_POLL_MS = 1_000;

/** No client is there to answer a server-to-client request of a call the gateway runs itself. */
const NO_CLIENT: Omit<DownstreamCaller, 'session'> = {
  capabilities: undefined,
  sendRequest: () => Promise.reject(new GatehouseError('GH_CLIENT_CAPABILITY_MISSING', 'this call runs without its agent (an approved call of a queue profile, or a dead-letter retry): no client can answer')),
  log: () => undefined,
};

function detachedCaller(gateway: Gateway, agent: string, profile: string, session: string): CallerContext {
  const known = gateway.profiles.get(profile);
  if (!known) throw new GatehouseError('GH_PROFILE_UNKNOWN', `profile "${profile}" is no longer in the config`, { profile });
  return { agent: { name: agent, profiles: gateway.config.agents[agent]?.profiles ?? [] }, profile: known, session, downstreamCaller: { ...NO_CLIENT, session } };
}

/**
 * Runs the approved G2 calls of `queue` profiles, whose agents were answered at once and stopped
 * waiting. Each goes through the whole pipeline with its approval id (the grant is used once, the
 * approval id is the idempotency key, so the agent calling again reads the outcome as a replay,
 * and of several gateways only one runs it). A call that fails after its safe retries is
 * dead-lettered; one another process ran first is skipped.
 */
export class ApprovedCallRunner {
  private readonly timer: NodeJS.Timeout;
  private running: Promise<void> | undefined;

  constructor(private readonly gateway: Gateway, everyMs = APPROVED_CALLS_POLL_MS) {
    this.timer = setInterval(() => void this.tick(), everyMs).unref();
  }

  /** One look: runs every approved, unused, unexpired queued grant (one pass at a time). */
  tick(): Promise<void> {
    this.running ??= this.runAll().finally(() => {
      this.running = undefined;
    });
    return this.running;
  }

  async close(): Promise<void> {
    clearInterval(this.timer);
    await this.running;
  }

  private async runAll(): Promise<void> {
    try {
      const now = new Date().toISOString();
      const approved = await this.gateway.desk.list({ status: 'approved' });
      const queued = approved.filter((a) => a.gate === 'G2' && this.gateway.profiles.get(a.profile)?.approval.mode === 'queue' && (a.grantExpiresAt ?? now) > now);
      for (const approval of queued) await this.run(approval);
    } catch (error) {
      this.gateway.log.error({ err: error }, 'approved calls could not be run; trying again shortly');
    }
  }

  private async run(approval: ApprovalRequest): Promise<void> {
    const request: CallRequest = {
      caller: detachedCaller(this.gateway, approval.agent, approval.profile, `approved:${approval.id}`),
      name: approval.exposedName,
      arguments: { ...approval.arguments, approval_id: approval.id },
      meta: undefined,
      cancel: undefined,
      onProgress: undefined,
      via: 'approved',
    };
    try {
      await runCall(this.gateway.pipeline, request);
    } catch (error) {
      // Used by the agent or another gateway first, or no longer usable: not a failure of the call.
      if (isGatehouseError(error) && isRefusal(error.code)) return;
      const failure = isGatehouseError(error) ? error.toJSON() : { code: 'GH_DOWNSTREAM_ERROR', message: (error as Error).message };
      await this.gateway.deadLetters.add({
        kind: 'call',
        createdAt: new Date().toISOString(),
        agent: approval.agent,
        profile: approval.profile,
        server: approval.server,
        tool: approval.tool,
        payload: { approval: approval.id, key: `approval:${approval.id}`, exposedName: approval.exposedName, arguments: approval.arguments },
        error: { code: failure.code, message: failure.message },
        attempts: 1,
      });
    }
  }
}

/**
 * `gatehouse dlq retry` of a call: runs it once more, without its agent and without a new
 * approval (the operator retrying it is the human decision), under the idempotency key
 * `dlq:<letter id>`: two retries, or a retry and a crash, never run it twice. The server's
 * circuit breaker, timeout and safe retries apply.
 */
export async function rerunDeadCall(gateway: Gateway, letter: DeadLetter): Promise<CallToolResult> {
  const { agent, profile, server, tool } = letter;
  const connection = server ? gateway.connections.get(server) : undefined;
  if (!agent || !profile || !server || !tool || !connection) throw new GatehouseError('GH_DOWNSTREAM_UNAVAILABLE', `dead letter ${letter.id}: server "${server}" is not in the config`, { server });
  const payload = letter.payload as { exposedName: string; arguments: Record<string, unknown> };
  const call = {
    caller: detachedCaller(gateway, agent, profile, `dlq:${letter.id}`),
    name: payload.exposedName,
    arguments: payload.arguments,
    meta: undefined,
    cancel: undefined,
    onProgress: undefined,
    via: 'approved' as const,
    server,
    tool: { name: tool, inputSchema: { type: 'object' as const } },
  };
  const governance = gateway.pipeline.governance;
  const keyed = { agent, profile, server, tool: `${server}/${tool}`, key: `dlq:${letter.id}`, fingerprint: argumentFingerprint(payload.arguments), retentionMs: governance.settings.idempotencyRetentionMs, owner: processOwner() };
  const { result } = await runOnce(governance.ledger, keyed, governance.record, async (execution) => {
    await execution.begin();
    return protect({ resilience: gateway.resilience, record: governance.record }, call, 'G2', connection, NO_TRACING.start(call));
  });
  return result;
}

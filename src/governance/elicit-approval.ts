import { ElicitResultSchema } from '@modelcontextprotocol/sdk/types.js';
import type { DownstreamCaller } from '../downstream/caller-registry.js';
import type { ApprovalRequest } from '../ports/approval-store.js';

/** What the person at the client chose; undefined when they dismissed the question. */
export type ElicitedDecision = { approved: boolean; reason?: string } | undefined;

/**
 * Asks the person at the agent's client to decide an approval request through MCP elicitation.
 * The client shows the question to its user; the model never sees or answers it. Resolves
 * undefined on cancel, on an aborted signal or when the client fails.
 */
export async function elicitApproval(caller: DownstreamCaller, request: ApprovalRequest, signal: AbortSignal): Promise<ElicitedDecision> {
  const message =
    `Gatehouse: agent "${request.agent}" (profile "${request.profile}") asks to run ${request.exposedName}, gate ${request.gate}.\n` +
    `Arguments: ${JSON.stringify(request.arguments)}\nWhy it needs you: ${request.reason}\nApprove this one call?`;
  try {
    const result = await caller.sendRequest(
      {
        method: 'elicitation/create',
        params: {
          message,
          requestedSchema: {
            type: 'object',
            properties: {
              decision: { type: 'string', enum: ['approve', 'reject'], description: 'approve runs exactly this call once' },
              reason: { type: 'string', description: 'why (the agent is told when you reject)' },
            },
            required: ['decision'],
          },
        },
      },
      ElicitResultSchema,
      { signal, timeout: Math.max(1, Date.parse(request.expiresAt) - Date.now()) },
    );
    if (result.action === 'decline') return { approved: false, reason: 'declined at the client' };
    if (result.action !== 'accept') return undefined;
    const content = (result.content ?? {}) as { decision?: unknown; reason?: unknown };
    const reason = typeof content.reason === 'string' && content.reason.length > 0 ? content.reason : undefined;
    return { approved: content.decision === 'approve', ...(reason ? { reason } : {}) };
  } catch {
    return undefined;
  }
}

import { GatehouseError } from '../../core/errors.js';
import type { DecidedCall, PolicyDecision, ResolvedCall } from './types.js';

/** The policy hook: governance (gates, approvals, trust) plugs in here. */
export type Policy = (call: ResolvedCall) => PolicyDecision | Promise<PolicyDecision>;

/** The pass-through policy of the gateway core: every resolved, valid call may run. */
export const allowAll: Policy = () => ({ allowed: true, reason: 'no governance configured' });

/** Stage 4: ask the policy; a refusal stops the call with its reason. */
export async function decide(call: ResolvedCall, policy: Policy): Promise<DecidedCall> {
  const decision = await policy(call);
  if (!decision.allowed) {
    throw new GatehouseError('GH_POLICY_DENIED', `call to "${call.name}" refused: ${decision.reason}`, {
      tool: call.name,
      reason: decision.reason,
    });
  }
  return { ...call, decision };
}

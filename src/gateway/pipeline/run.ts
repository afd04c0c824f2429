import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { GatehouseError, isGatehouseError } from '../../core/errors.js';
import type { EventOutbox } from '../event-outbox.js';
import type { ServerConnection } from '../../downstream/server-connection.js';
import type { Catalog } from '../catalog.js';
import { authorize } from './authorize.js';
import { resolve } from './resolve.js';
import type { ArgumentValidator } from './validate.js';
import { decide, type Policy } from './policy.js';
import { forward } from './forward.js';
import type { CallRequest, ResolvedCall } from './types.js';

export interface PipelineDeps {
  catalog: Catalog;
  validator: ArgumentValidator;
  policy: Policy;
  connections: ReadonlyMap<string, ServerConnection>;
  audit: EventOutbox;
}

type StageName = 'authorize' | 'resolve' | 'validate' | 'policy' | 'forward';

/**
 * The call pipeline: authorize → resolve → validate → policy → forward, then one audit event
 * whatever the outcome. Eager tools/call and the lazy call_tool meta-tool both come here.
 */
export async function runCall(deps: PipelineDeps, request: CallRequest): Promise<CallToolResult> {
  const startedAt = new Date();
  const started = performance.now();
  let stage: StageName = 'authorize';
  let resolved: ResolvedCall | undefined;
  try {
    authorize(request);
    stage = 'resolve';
    resolved = await resolve(request, deps.catalog);
    stage = 'validate';
    deps.validator.validate(resolved);
    stage = 'policy';
    const decided = await decide(resolved, deps.policy);
    stage = 'forward';
    const connection = deps.connections.get(decided.server)!;
    const result = await forward(decided, connection);
    await record(deps, request, resolved, startedAt, started, { outcome: result.isError ? 'tool_error' : 'ok' });
    return result;
  } catch (error) {
    const failure = isGatehouseError(error)
      ? error
      : new GatehouseError('GH_DOWNSTREAM_ERROR', (error as Error).message, {}, { cause: error });
    await record(deps, request, resolved, startedAt, started, { outcome: 'error', stage, code: failure.code, message: failure.message });
    throw failure;
  }
}

function record(
  deps: PipelineDeps,
  request: CallRequest,
  resolved: ResolvedCall | undefined,
  startedAt: Date,
  started: number,
  result: { outcome: 'ok' | 'tool_error' | 'error'; stage?: StageName; code?: string; message?: string },
): Promise<void> {
  // Awaited before the agent gets its answer: an acknowledged call's event is committed.
  return deps.audit.append({
    type: result.outcome === 'error' ? 'tool.call.failed' : 'tool.call.succeeded',
    at: startedAt.toISOString(),
    agent: request.caller.agent.name,
    profile: request.caller.profile.name,
    server: resolved?.server,
    tool: resolved?.tool.name ?? request.name,
    payload: {
      via: request.via,
      session: request.caller.session,
      durationMs: Math.round((performance.now() - started) * 1000) / 1000,
      ...result,
    },
  });
}

import { CallToolResultSchema, ErrorCode, McpError, type CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { GatehouseError, isGatehouseError } from '../../core/errors.js';
import type { ServerConnection } from '../../downstream/server-connection.js';
import { verdictOf } from '../../downstream/transport-verdicts.js';
import { incidentOf } from '../../downstream/incidents.js';
import type { DecidedCall } from './types.js';
import type { CallTrace } from './telemetry.js';

/**
 * Stage 5: the call goes to the downstream server (started on first use) with the call
 * timeout; progress is relayed when the client asked for it (and keeps the call alive), and
 * the client's cancellation, or the timeout, reaches the server as notifications/cancelled. The
 * client's `_meta` goes along, with this call's trace context in place of the agent's when tracing
 * is on. One attempt: `protect` wraps it in the bulkhead, circuit breaker and retries.
 */
export async function forward(call: DecidedCall, connection: ServerConnection, trace: CallTrace, timeoutMs?: number): Promise<CallToolResult> {
  const span = trace.forward(call.server, call.tool.name);
  const meta = span.meta(call.meta);
  const params = {
    name: call.tool.name,
    arguments: call.arguments,
    ...(meta ? { _meta: meta } : {}),
  };
  try {
    const result = await connection.request({ method: 'tools/call', params }, CallToolResultSchema, call.caller.downstreamCaller, {
      ...(timeoutMs !== undefined ? { timeout: timeoutMs } : {}),
      ...(call.cancel ? { cancel: call.cancel } : {}),
      ...(call.onProgress ? { onprogress: call.onProgress, resetTimeoutOnProgress: true } : {}),
    });
    span.end(result);
    return result;
  } catch (error) {
    const failure = downstreamFailure(call, error, connection);
    span.end(undefined, failure);
    throw failure;
  }
}

function downstreamFailure(call: DecidedCall, error: unknown, connection: ServerConnection): GatehouseError {
  if (isGatehouseError(error)) return error;
  const data = { server: call.server, tool: call.name };
  if (call.cancel?.aborted) return new GatehouseError('GH_CANCELLED', `call to "${call.name}" was cancelled by the client`, data);
  if (error instanceof McpError) {
    const verdict = verdictOf(error.data);
    if (verdict) return new GatehouseError(verdict.code, `server "${call.server}", "${call.name}": ${verdict.message}`, { ...data, ...verdict.data });
    if (error.code === ErrorCode.RequestTimeout) {
      const timeout = (error.data as { timeout?: unknown } | undefined)?.timeout;
      const within = typeof timeout === 'number' ? ` within ${timeout} ms` : ' in time';
      return new GatehouseError('GH_DOWNSTREAM_TIMEOUT', `server "${call.server}" did not answer "${call.name}"${within}; the call was cancelled downstream`, { ...data, ...(typeof timeout === 'number' ? { timeoutMs: timeout } : {}) });
    }
    if (error.code === ErrorCode.ConnectionClosed) {
      // When its process ended (a crash), how it did: the exit code or signal and its last stderr line.
      const ending = connection.ending();
      const ended = ending.data.exitCode !== undefined;
      return new GatehouseError('GH_DOWNSTREAM_UNAVAILABLE', `server "${call.server}" closed the connection during "${call.name}"${ended ? ending.text : ''}`, withIncident({ ...data, ...(ended ? ending.data : {}) }, error));
    }
    return new GatehouseError('GH_DOWNSTREAM_ERROR', error.message, { ...data, downstreamCode: error.code, downstreamData: error.data });
  }
  return new GatehouseError('GH_DOWNSTREAM_UNAVAILABLE', `server "${call.server}" failed during "${call.name}": ${(error as Error).message}`, withIncident(data, error), {
    cause: error,
  });
}

/** The lost connection this failure belongs to, if any, so that the circuit breaker counts it once. */
function withIncident(data: Record<string, unknown>, error: unknown): Record<string, unknown> {
  const incident = incidentOf(error);
  return incident ? { ...data, incident } : data;
}

import { CallToolResultSchema, ErrorCode, McpError, type CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { GatehouseError, isGatehouseError } from '../../core/errors.js';
import type { ServerConnection } from '../../downstream/server-connection.js';
import type { DecidedCall } from './types.js';
import type { CallTrace } from './telemetry.js';

/**
 * Stage 5: the call goes to the downstream server (started on first use) with the call
 * timeout; progress is relayed when the client asked for it (and keeps the call alive), and
 * the client's cancellation reaches the server as notifications/cancelled. The client's `_meta`
 * goes along, with this call's trace context in place of the agent's when tracing is on.
 */
export async function forward(call: DecidedCall, connection: ServerConnection, trace: CallTrace): Promise<CallToolResult> {
  const span = trace.forward(call.server, call.tool.name);
  const meta = span.meta(call.meta);
  const params = {
    name: call.tool.name,
    arguments: call.arguments,
    ...(meta ? { _meta: meta } : {}),
  };
  try {
    const result = await connection.request({ method: 'tools/call', params }, CallToolResultSchema, call.caller.downstreamCaller, {
      ...(call.signal ? { signal: call.signal } : {}),
      ...(call.onProgress ? { onprogress: call.onProgress, resetTimeoutOnProgress: true } : {}),
    });
    span.end(result);
    return result;
  } catch (error) {
    const failure = downstreamFailure(call, error);
    span.end(undefined, failure);
    throw failure;
  }
}

function downstreamFailure(call: DecidedCall, error: unknown): GatehouseError {
  if (isGatehouseError(error)) return error;
  const data = { server: call.server, tool: call.name };
  if (call.signal?.aborted) return new GatehouseError('GH_CANCELLED', `call to "${call.name}" was cancelled by the client`, data);
  if (error instanceof McpError) {
    if (error.code === ErrorCode.RequestTimeout) {
      return new GatehouseError('GH_DOWNSTREAM_TIMEOUT', `server "${call.server}" did not answer "${call.name}" in time`, data);
    }
    if (error.code === ErrorCode.ConnectionClosed) {
      return new GatehouseError('GH_DOWNSTREAM_UNAVAILABLE', `server "${call.server}" closed the connection during "${call.name}"`, data);
    }
    return new GatehouseError('GH_DOWNSTREAM_ERROR', error.message, { ...data, downstreamCode: error.code, downstreamData: error.data });
  }
  return new GatehouseError('GH_DOWNSTREAM_UNAVAILABLE', `server "${call.server}" failed during "${call.name}": ${(error as Error).message}`, data, {
    cause: error,
  });
}

import { ErrorCode, McpError, type CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { GatehouseError, isGatehouseError, type ErrorCode as GhCode } from '../core/errors.js';
import { protocolError } from '../downstream/protocol-error.js';

/**
 * The edge where Gatehouse errors become protocol errors. Tool calls follow the MCP rule:
 * "no such tool" is a JSON-RPC error; everything the model could act on (bad arguments, a
 * refusal, a downstream failure) is a tool result with isError, so the agent can read it.
 */
const JSON_RPC_CODES: Partial<Record<GhCode, number>> = {
  GH_TOOL_NOT_ALLOWED: ErrorCode.InvalidParams,
  GH_RESOURCE_NOT_ALLOWED: ErrorCode.InvalidParams,
  GH_PROMPT_NOT_ALLOWED: ErrorCode.InvalidParams,
  GH_INVALID_ARGUMENTS: ErrorCode.InvalidParams,
  GH_PROFILE_UNKNOWN: ErrorCode.InvalidParams,
  GH_CANCELLED: ErrorCode.RequestTimeout,
  GH_DOWNSTREAM_TIMEOUT: ErrorCode.RequestTimeout,
};

/** Errors that are protocol errors even for tools/call. */
const PROTOCOL_ERRORS_FOR_TOOLS = new Set<GhCode>(['GH_TOOL_NOT_ALLOWED', 'GH_PROFILE_UNKNOWN']);

export function toMcpError(error: unknown): McpError {
  // e.g. one from a downstream server, through the SDK client: its text starts with "MCP error <code>: ".
  if (error instanceof McpError) return protocolError(error.code, withoutPrefix(error.message), error.data);
  if (!isGatehouseError(error)) return protocolError(ErrorCode.InternalError, (error as Error)?.message ?? String(error));
  if (error.code === 'GH_DOWNSTREAM_ERROR' && typeof error.data.downstreamCode === 'number') {
    // A downstream protocol error passes through with its code, text and data, so the gateway stays transparent.
    return protocolError(error.data.downstreamCode, withoutPrefix(error.message), error.data.downstreamData);
  }
  return protocolError(JSON_RPC_CODES[error.code] ?? ErrorCode.InternalError, error.message, { gatehouse: error.toJSON() });
}

/**
 * The text of a protocol error without "MCP error <code>: ": our SDK client adds one, and a
 * server built on the SDK sends one already (the same doubling as in protocolError).
 */
function withoutPrefix(message: string): string {
  return message.replace(/^(MCP error -?\d+: )+/, '');
}

/** How a failed tools/call reaches the agent: a thrown McpError or an isError result. */
export function toolCallFailure(error: unknown): CallToolResult {
  if (isGatehouseError(error) && !PROTOCOL_ERRORS_FOR_TOOLS.has(error.code) && !isDownstreamProtocolError(error)) {
    return {
      isError: true,
      content: [{ type: 'text', text: `${error.code}: ${error.message}` }],
      _meta: { gatehouse: error.toJSON() },
    };
  }
  throw toMcpError(error);
}

function isDownstreamProtocolError(error: GatehouseError): boolean {
  return error.code === 'GH_DOWNSTREAM_ERROR' && typeof error.data.downstreamCode === 'number';
}

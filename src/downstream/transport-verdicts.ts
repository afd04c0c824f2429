import { ErrorCode as JsonRpcErrorCode, type JSONRPCMessage, type RequestId } from '@modelcontextprotocol/sdk/types.js';
import type { ErrorCode } from '../core/errors.js';

/** Why the transport answered a request itself instead of passing on what the server sent. */
export interface TransportVerdict {
  code: ErrorCode;
  message: string;
  data: Record<string, unknown>;
}

/** Keyed by the error's data object, which the SDK hands to McpError unchanged: a server cannot forge one. */
const verdicts = new WeakMap<object, TransportVerdict>();

/**
 * An error response for request `id`, made by the transport when the server's answer to it
 * could not be delivered (not valid JSON-RPC, or larger than allowed). The call fails at once with
 * a clear code instead of waiting for its timeout.
 */
export function verdictResponse(id: RequestId, verdict: TransportVerdict): JSONRPCMessage {
  const data = { gatehouse: verdict.code };
  verdicts.set(data, verdict);
  return { jsonrpc: '2.0', id, error: { code: JsonRpcErrorCode.InternalError, message: verdict.message, data } };
}

/** The verdict behind an McpError's data, when the transport made it. */
export function verdictOf(data: unknown): TransportVerdict | undefined {
  return data !== null && typeof data === 'object' ? verdicts.get(data) : undefined;
}

import type { Transport } from '@modelcontextprotocol/sdk/shared/transport.js';
import { ClientRequestSchema, ErrorCode, type JSONRPCMessage } from '@modelcontextprotocol/sdk/types.js';
import type { z } from 'zod';

/** Each client request's schema, by method. */
const SCHEMAS = new Map<string, z.ZodType>(ClientRequestSchema.options.map((schema) => [schema.shape.method.value, schema]));

/**
 * Answers a request whose params do not fit its method's schema with -32602 (invalid params),
 * naming each field, e.g. `invalid params for tools/call: params.arguments: expected record,
 * received string` (a model that sends its arguments as a JSON string). Left to the SDK, the
 * same request is an internal error (-32603) whose message is zod's issue list as JSON.
 * Installed after the server's connect, which sets `onmessage`; methods the SDK does not know
 * pass through to its "method not found".
 */
export function guardRequestParams(transport: Transport): void {
  const deliver = transport.onmessage;
  if (!deliver) throw new Error('guardRequestParams: connect the server to the transport first');
  transport.onmessage = (message, extra) => {
    const problem = paramsProblem(message);
    if (problem === undefined) return deliver(message, extra);
    const id = (message as { id: string | number }).id;
    transport.send({ jsonrpc: '2.0', id, error: { code: ErrorCode.InvalidParams, message: problem } }).catch((error: unknown) => transport.onerror?.(error as Error));
  };
}

function paramsProblem(message: JSONRPCMessage): string | undefined {
  // The transport let through only JSON-RPC messages: one with a method and an id is a request.
  if (!('method' in message && 'id' in message)) return undefined;
  if (isPlainToolCall(message)) return undefined;
  const parsed = SCHEMAS.get(message.method)?.safeParse(message);
  if (parsed === undefined || parsed.success) return undefined;
  const issues = parsed.error.issues.map((issue) => `${issue.path.join('.') || 'request'}: ${issue.message.replace(/^Invalid input: /, '')}`);
  return `invalid params for ${message.method}: ${issues.join('; ')}`;
}

/**
 * A tools/call the schema accepts, told by its keys: a name, arguments absent or an object, no
 * `task` (and no `_meta`: json-rpc-message.ts sent params with one to the SDK's schema already).
 * Nearly every call is one; parsing it here, then again in the SDK, cost ~5 µs per call.
 */
export function isPlainToolCall(message: JSONRPCMessage): boolean {
  if (!('method' in message) || message.method !== 'tools/call') return false;
  const params = message.params as Record<string, unknown> | undefined;
  if (typeof params !== 'object' || params === null || params._meta !== undefined || params.task !== undefined || typeof params.name !== 'string') return false;
  const args = params.arguments;
  return args === undefined || (typeof args === 'object' && args !== null && !Array.isArray(args));
}

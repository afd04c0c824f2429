import { JSONRPCMessageSchema, type JSONRPCMessage } from '@modelcontextprotocol/sdk/types.js';

/**
 * The JSON-RPC 2.0 message a parsed JSON value is, by the SDK's own JSONRPCMessageSchema, or
 * undefined when it is none. The shapes of nearly every message (a request or notification
 * whose params carry no `_meta`, a result without `_meta`) are recognised by a few property
 * checks and passed on as they are, which the schema would return unchanged; everything else
 * (errors, `_meta`, anything doubtful) is left to the schema. The schema copies every message:
 * on each call's request and its result it cost the stdio gateway about 17 µs of its ~0.33 ms
 * of CPU per call (interleaved runs of `gatehouse connect` with and without it).
 */
export function jsonRpcMessageOf(value: unknown): JSONRPCMessage | undefined {
  if (isCommonMessage(value)) return value as JSONRPCMessage;
  const parsed = JSONRPCMessageSchema.safeParse(value);
  return parsed.success ? parsed.data : undefined;
}

/**
 * A request, notification or result response exactly as the schema accepts it: `jsonrpc`
 * "2.0", an id that is a string or a safe integer, no key the strict schema would refuse, and
 * params or result a plain object the schema would copy unchanged. False sends the value to the schema.
 */
function isCommonMessage(value: unknown): boolean {
  if (!isPlainObject(value) || value.jsonrpc !== '2.0') return false;
  const { id, method, params, result } = value;
  let keys = 1;
  if (id !== undefined) {
    if (!(typeof id === 'string' || Number.isSafeInteger(id))) return false;
    keys += 1;
  }
  if (typeof method === 'string') {
    keys += 1;
    if (params !== undefined) {
      if (!isPlainObject(params) || !isCopiedAsIs(params)) return false;
      keys += 1;
    }
  } else {
    if (method !== undefined || id === undefined || !isPlainObject(result) || !isCopiedAsIs(result)) return false;
    keys += 1;
  }
  return Object.keys(value).length === keys;
}

/**
 * Params or a result the schema's copy would equal: no `_meta` (the schema checks its fields)
 * and no own `__proto__` key (JSON.parse makes one; the schema's copy drops it).
 */
function isCopiedAsIs(object: Record<string, unknown>): boolean {
  return object._meta === undefined && !Object.hasOwn(object, '__proto__');
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

import type { Server } from '@modelcontextprotocol/sdk/server/index.js';
import type { RequestHandlerExtra } from '@modelcontextprotocol/sdk/shared/protocol.js';
import type { Transport } from '@modelcontextprotocol/sdk/shared/transport.js';
import {
  ErrorCode,
  McpError,
  type CallToolRequest,
  type CallToolResult,
  type JSONRPCMessage,
  type JSONRPCRequest,
  type ServerNotification,
  type ServerRequest,
} from '@modelcontextprotocol/sdk/types.js';
import { CallCancellation, cancellationOf, type Cancellation } from '../core/cancellation.js';
import { isPlainToolCall } from './params-guard.js';

type Extra = RequestHandlerExtra<ServerRequest, ServerNotification>;
export type ToolCallHandler = (request: CallToolRequest, extra: Extra) => Promise<CallToolResult>;

/** What of the SDK Protocol a plain tool call needs (its handler's abort controllers are not part of its typed API). */
interface ProtocolInternals {
  _requestHandlerAbortControllers?: unknown;
}

/** The cancellation of each call this path hands on, by its handler's `extra` (callCancellation). */
const cancellations = new WeakMap<Extra, Cancellation>();

/**
 * A tool call's cancellation, from its handler's `extra`: the one this path made (whose
 * AbortSignal is made only if something asks for it), or one following the SDK's signal.
 */
export function callCancellation(extra: Extra): Cancellation {
  return cancellations.get(extra) ?? cancellationOf(extra.signal);
}

/**
 * Hands a plain tools/call (params-guard.ts: a name, arguments absent or an object, no `_meta`,
 * no `task`) to `handler` straight from the transport, doing for it what the SDK Protocol's
 * `_onrequest` does for such a request: a cancellation in the Protocol's own map (so that
 * `notifications/cancelled` and the connection's close abort it, as they abort the SDK's), the
 * handler's `extra` (its notifications and requests travel on this request, as `relatedRequestId`),
 * no answer once aborted, and a thrown error answered as the SDK answers it. It skips the
 * Protocol's second zod parse of the request (the guard checked its shape), its task lookups and
 * its promise chain. Other messages go on to `onmessage` as before. Returns false, leaving every
 * call to the SDK, when this SDK's Protocol does not keep its controllers where expected.
 * Install after the server's connect and its other wrappers.
 */
export function answerPlainToolCalls(server: Server, transport: Transport, handler: ToolCallHandler): boolean {
  const controllers = (server as unknown as ProtocolInternals)._requestHandlerAbortControllers;
  const deliver = transport.onmessage;
  if (!(controllers instanceof Map) || !deliver) return false;
  transport.onmessage = (message, info) => {
    // A tools/call without an id is a notification: the SDK's dispatcher ignores it, nothing answers it.
    if (!('id' in message) || !isPlainToolCall(message)) return deliver(message, info);
    const request = message as JSONRPCRequest;
    const id = request.id;
    // In the Protocol's map as its own controllers are: notifications/cancelled and a closed connection abort it.
    const controller = new CallCancellation();
    controllers.set(id, controller);
    const extra: Extra = {
      get signal() {
        return controller.signal;
      },
      sessionId: transport.sessionId,
      requestId: id,
      authInfo: info?.authInfo,
      requestInfo: info?.requestInfo,
      sendNotification: async (notification) => {
        if (!controller.aborted) await server.notification(notification, { relatedRequestId: id });
      },
      sendRequest: async (r, resultSchema, options) => {
        if (controller.aborted) throw new McpError(ErrorCode.ConnectionClosed, 'Request was cancelled');
        return server.request(r, resultSchema, { ...options, relatedRequestId: id });
      },
    };
    cancellations.set(extra, controller);
    handler(request as unknown as CallToolRequest, extra)
      .then(
        (result) => (controller.aborted ? undefined : transport.send({ jsonrpc: '2.0', id, result } as JSONRPCMessage)),
        (error: { code?: unknown; message?: string; data?: unknown }) =>
          controller.aborted
            ? undefined
            : transport.send({
                jsonrpc: '2.0',
                id,
                error: {
                  code: Number.isSafeInteger(error.code) ? (error.code as number) : ErrorCode.InternalError,
                  message: error.message ?? 'Internal error',
                  ...(error.data !== undefined && { data: error.data }),
                },
              }),
      )
      .catch((error: unknown) => transport.onerror?.(new Error(`Failed to send response: ${String(error)}`)))
      .finally(() => {
        if (controllers.get(id) === controller) controllers.delete(id);
      });
  };
  return true;
}

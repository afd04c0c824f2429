import type { Protocol } from '@modelcontextprotocol/sdk/shared/protocol.js';
import type { Transport } from '@modelcontextprotocol/sdk/shared/transport.js';
import type { JSONRPCMessage, MessageExtraInfo } from '@modelcontextprotocol/sdk/types.js';

/** The SDK Protocol's own handlers, which its message dispatcher calls (not part of its typed API). */
interface ProtocolHandlers {
  _onrequest(message: JSONRPCMessage, extra?: MessageExtraInfo): void;
  _onnotification(message: JSONRPCMessage): void;
  _onresponse(message: JSONRPCMessage): void;
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- any Protocol: Server or Client, whatever their request types
type AnyProtocol = Protocol<any, any, any>;

/**
 * Replaces the dispatcher the SDK's Protocol installs on `connect()` with one that tells a
 * request, a notification and a response apart by their keys. The SDK's asks zod, in order,
 * whether each message is a result, an error, a request: for a request that is two failed
 * parses, each building a ZodError with a stack trace, about 13 µs of the stdio gateway's CPU
 * per call (more than the rest of the dispatch). Every transport here delivers only messages
 * that JSONRPCMessageSchema accepts (json-rpc-message.ts; the SDK's HTTP client parses with it),
 * and for those the keys give the same answer. Call right after `connect()` and before any
 * other wrapper of `onmessage`. Returns false, leaving the SDK's dispatcher, when this SDK's
 * Protocol does not have the handlers (a later version): slower, never wrong.
 */
export function dispatchByShape(protocol: AnyProtocol, transport: Transport): boolean {
  const sdkDispatcher = transport.onmessage;
  const handlers = protocol as unknown as Partial<ProtocolHandlers>;
  const { _onrequest: onRequest, _onnotification: onNotification, _onresponse: onResponse } = handlers;
  if (!sdkDispatcher || typeof onRequest !== 'function' || typeof onNotification !== 'function' || typeof onResponse !== 'function') return false;
  transport.onmessage = (message, extra) => {
    if ('method' in message) {
      if ('id' in message) onRequest.call(protocol, message, extra);
      else onNotification.call(protocol, message);
    } else if ('result' in message || 'error' in message) {
      onResponse.call(protocol, message);
    } else {
      sdkDispatcher(message, extra);
    }
  };
  return true;
}

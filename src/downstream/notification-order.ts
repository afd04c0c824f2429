import type { Transport } from '@modelcontextprotocol/sdk/shared/transport.js';

/**
 * The SDK's Protocol handles a response synchronously but a notification one microtask later,
 * and forgets a request's progress handler as soon as its response arrives. When the last
 * progress notification and the response come in one read (common on stdio), the progress is
 * dropped. Deferring responses by one microtask restores the order the server sent them in.
 * Call after `connect()`, which is when the Protocol installs its onmessage.
 */
export function keepNotificationsBeforeResponses(transport: Transport): void {
  const deliver = transport.onmessage;
  if (!deliver) return;
  transport.onmessage = (message, extra) => {
    if ('id' in message && !('method' in message)) {
      queueMicrotask(() => deliver(message, extra));
    } else {
      deliver(message, extra);
    }
  };
}

/**
 * The SDK's streamable HTTP client passes one long-lived AbortSignal to every fetch, and each
 * fetch leaves a listener on it: over thousands of calls that leaks. POSTs (one per JSON-RPC
 * message) get a fresh signal that is tied to the transport's signal only until the response
 * arrives; the long-lived GET stream keeps the transport's own signal so that close() ends it.
 */
export const freshSignalFetch: typeof fetch = async (input, init) => {
  const outer = init?.signal;
  if (!outer || (init?.method ?? 'GET').toUpperCase() === 'GET') return fetch(input, init);
  if (outer.aborted) return fetch(input, init);
  const controller = new AbortController();
  const onAbort = () => controller.abort(outer.reason);
  outer.addEventListener('abort', onAbort, { once: true });
  try {
    return await fetch(input, { ...init, signal: controller.signal });
  } finally {
    outer.removeEventListener('abort', onAbort);
  }
};

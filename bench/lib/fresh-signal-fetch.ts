/**
 * A `fetch` for the SDK's HTTP client transports (streamable HTTP and SSE). They hand one
 * long-lived AbortSignal to every POST, and each fetch leaves an abort listener on it, so over
 * thousands of calls the listeners pile up (MaxListenersExceededWarning, growing memory) and
 * would skew a long benchmark. Each POST gets its own signal, tied to the transport's signal only
 * until its response arrives; GETs (the long-lived event streams) keep the transport's signal so
 * that closing the transport still ends them.
 */
export const freshSignalFetch: typeof fetch = async (input, init) => {
  const outer = init?.signal;
  if (!outer || outer.aborted || (init?.method ?? 'GET').toUpperCase() === 'GET') return fetch(input, init);
  const controller = new AbortController();
  const onAbort = () => controller.abort(outer.reason);
  outer.addEventListener('abort', onAbort, { once: true });
  try {
    return await fetch(input, { ...init, signal: controller.signal });
  } finally {
    outer.removeEventListener('abort', onAbort);
  }
};

/**
 * Which connection incident an error belongs to: when a server process dies, every call in flight
 * on it fails at once, and the circuit breaker should count that as one failure of the server,
 * not fifty. Keyed by the error object, as the SDK hands it over.
 */
const incidents = new WeakMap<object, string>();

export function markIncident(error: unknown, incident: string): void {
  if (error !== null && typeof error === 'object') incidents.set(error, incident);
}

export function incidentOf(error: unknown): string | undefined {
  return error !== null && typeof error === 'object' ? incidents.get(error) : undefined;
}

import type { ServerConnection } from '../downstream/server-connection.js';
import type { Gateway } from '../gateway/gateway.js';
import type { CircuitState, GaugeSources } from './prometheus-metrics.js';

/** Pending requests are read newest first up to this many; a backlog larger than this is a different problem. */
const PENDING_SCAN_LIMIT = 10_000;

/** What the scrape-time gauges of a gateway read: its approval store, its connections, the HTTP sessions. */
export function gatewayGaugeSources(gateway: Gateway, sessions: () => number): GaugeSources {
  return {
    async pendingApprovals() {
      const now = new Date().toISOString();
      const pending = await gateway.stores.approvals.list({ status: 'pending', limit: PENDING_SCAN_LIMIT });
      // A request past its expiry that no waiter has marked `expired` yet can no longer be decided.
      return pending.filter((request) => request.expiresAt > now).length;
    },
    servers: () =>
      [...gateway.connections.values()].map((connection) => ({
        name: connection.name,
        transport: connection.transport,
        state: connection.state,
        circuit: circuitState(connection),
      })),
    sessions,
  };
}

/**
 * The circuit state hook. Circuit breakers do not exist yet (issue 6); until they do, the
 * nearest thing is the restart backoff: a server that crashed is `open` while its next start
 * must wait, `half_open` once a start may be tried, `closed` after it answered a request.
 * A breaker replaces this function with its own state; the metric keeps its name and values.
 */
export function circuitState(connection: ServerConnection, now = Date.now()): CircuitState {
  const backoff = connection.restartBackoff;
  if (backoff.consecutiveCrashes === 0) return 'closed';
  return now < backoff.nextStartAt ? 'open' : 'half_open';
}

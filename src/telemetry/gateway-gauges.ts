import type { Gateway } from '../gateway/gateway.js';
import type { GaugeSources } from './prometheus-metrics.js';

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
        circuit: gateway.resilience.guard(connection.name).circuit.status().state,
      })),
    sessions,
  };
}

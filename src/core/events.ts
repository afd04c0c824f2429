/**
 * Every event type the gateway records, in one list. The payload of each is typed below;
 * docs/events.md documents them. The audit design grows this list; keep names namespaced.
 */
export const EVENT_TYPES = [
  'session.opened',
  'session.closed',
  'tools.listed',
  'tool.call.succeeded',
  'tool.call.failed',
  'tool.call.held',
  'policy.denied',
  'approval.requested',
  'approval.granted',
  'approval.rejected',
  'approval.expired',
  'preflight.issued',
  'commit.executed',
  'idempotent.replay',
  'review.requested',
  'review.acknowledged',
  'tool.quarantined',
  'tool.accepted',
  'server.started',
  'server.stopped',
  'server.crashed',
  'server.failed',
  'circuit.opened',
  'circuit.half_opened',
  'circuit.closed',
  'retry.scheduled',
] as const;

export type EventType = (typeof EVENT_TYPES)[number];

/** One audit event as the call path produces it (the store adds sequence number). */
export interface GatehouseEvent {
  type: EventType;
  /** ISO-8601 time the event happened. */
  at: string;
  agent?: string | undefined;
  profile?: string | undefined;
  server?: string | undefined;
  tool?: string | undefined;
  payload: Record<string, unknown>;
}

/** Records an event now (the recorder stamps `at`): what stages and services are given to audit with. */
export type RecordEvent = (event: Omit<GatehouseEvent, 'at'>) => void;

export interface StoredEvent extends GatehouseEvent {
  seq: number;
}

/**
 * Every event type the gateway records, in one list; docs/events.md documents each (when, and
 * its payload fields). Keep names namespaced. Types whose feature is not built yet are listed so
 * that the list, the docs and the retention config agree on names from the start.
 */
export const EVENT_TYPES = [
  'session.opened',
  'session.closed',
  'tools.listed',
  'tool.call.requested',
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
  'commit.unknown',
  'commit.resolved',
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
  'audit.pruned',
  'dead_letter.added',
  'dead_letter.retried',
  'dead_letter.reopened',
  'dead_letter.dropped',
  // Not emitted yet: their features arrive with later work (PII; trust levels).
  'pii.scrubbed',
  'trust.changed',
] as const;

export type EventType = (typeof EVENT_TYPES)[number];

/** The events of one tool call: requested when it enters the pipeline, then exactly one outcome. */
export const CALL_OUTCOME_EVENT_TYPES = ['tool.call.succeeded', 'tool.call.failed', 'tool.call.held', 'policy.denied'] as const;

export function isEventType(value: string): value is EventType {
  return (EVENT_TYPES as readonly string[]).includes(value);
}

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

import type { EventType } from './events.js';

const DAY_MS = 24 * 60 * 60 * 1000;

export interface RetentionPolicy {
  defaultDays: number;
  daysByType: Partial<Record<EventType, number>>;
}

/** The ISO-8601 times before which events expire at `now`: one for every type, and one per configured type. */
export function retentionCutoffs(policy: RetentionPolicy, now: Date): { default: string; byType: Record<string, string> } {
  const cutoff = (days: number) => new Date(now.getTime() - days * DAY_MS).toISOString();
  return {
    default: cutoff(policy.defaultDays),
    byType: Object.fromEntries(Object.entries(policy.daysByType).flatMap(([type, days]) => (days === undefined ? [] : [[type, cutoff(days)]]))),
  };
}

import type { RecordEvent } from '../core/events.js';
import type { EventStore } from '../ports/event-store.js';
import type { Run, RunsStore } from '../ports/runs-store.js';
import { ownerGone, type OwnerGone } from './crash-recovery.js';

/** The most running runs one start looks at (a gateway holds far fewer calls in flight). */
const MAX_RUNNING = 10_000;

/**
 * Crash recovery for the runs view, at start: a call whose gateway process died before it
 * answered would stay `running` for ever. Its `tool.call.requested` names that process
 * (`gateway`, host:pid:start); when the process is gone (checked as for idempotency keys, every doubt
 * leaving the run open), the call gets the outcome event it never had, a
 * `tool.call.failed` with GH_GATEWAY_STOPPED. Whether it ran downstream is not known here; a
 * keyed call's key says that (`commit.unknown`). Returns the runs closed.
 */
export async function closeInterruptedRuns(
  runs: RunsStore,
  events: EventStore,
  record: RecordEvent,
  gone: OwnerGone = ownerGone,
): Promise<Run[]> {
  const closed: Run[] = [];
  for (const run of await runs.list({ status: 'running', limit: MAX_RUNNING })) {
    const [opened] = await events.read({ afterSeq: run.firstSeq - 1, limit: 1 });
    const owner = opened?.type === 'tool.call.requested' ? opened.payload.gateway : undefined;
    // Runs opened before events named their gateway are left alone: their process cannot be told.
    if (typeof owner !== 'string' || !(await gone(owner))) continue;
    record({
      type: 'tool.call.failed',
      agent: run.agent ?? undefined,
      profile: run.profile ?? undefined,
      server: run.server ?? undefined,
      tool: run.tool ?? undefined,
      payload: {
        runId: run.runId,
        gate: run.gate,
        durationMs: null,
        outcome: 'error',
        stage: 'forward',
        code: 'GH_GATEWAY_STOPPED',
        message: `the gateway running this call (${owner}) stopped before it answered`,
      },
    });
    closed.push(run);
  }
  return closed;
}

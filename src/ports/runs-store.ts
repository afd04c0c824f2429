/** What the runs view says about a call; `running` means no outcome event yet. */
export const RUN_STATUSES = ['running', 'succeeded', 'failed', 'held', 'denied'] as const;
export type RunStatus = (typeof RUN_STATUSES)[number];

/** One tool call, derived from its `tool.call.requested` and outcome events. */
export interface Run {
  runId: string;
  agent: string | null;
  profile: string | null;
  server: string | null;
  tool: string | null;
  gate: string | null;
  status: RunStatus;
  /** ok, tool_error, replay, held, denied or error (null while running). */
  outcome: string | null;
  /** The GH_ code of a call that did not succeed. */
  code: string | null;
  /** ISO-8601. */
  startedAt: string;
  durationMs: number | null;
  /** The seq of the event that opened it (its `tool.call.requested`, or its outcome when that came first). */
  firstSeq: number;
}

export interface RunFilter {
  agent?: string;
  status?: RunStatus;
  /** ISO-8601: runs started at or after it. */
  since?: string;
  runId?: string;
  /** Newest first; default 50. */
  limit?: number;
}

/**
 * The runs view: one row per tool call, projected from the call events, newest first, indexed
 * for the filters above. The projection runs behind the append path (it is cheaper in bulk);
 * `list` catches it up first, so what it answers includes every event stored before the call.
 */
export interface RunsStore {
  list(filter?: RunFilter): Promise<Run[]>;
  /** Projects events not yet in the view, at most `maxEvents` of them; returns how many it read. */
  refresh(maxEvents?: number): Promise<number>;
}

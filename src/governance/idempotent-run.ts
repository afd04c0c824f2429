import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { GatehouseError, isGatehouseError } from '../core/errors.js';
import type { IdempotencyLedger, IdempotencyRecord } from '../ports/idempotency-ledger.js';
import type { RecordEvent } from '../core/events.js';

export interface KeyedCall {
  agent: string;
  profile: string;
  server: string;
  /** `server/tool`. */
  tool: string;
  key: string;
  fingerprint: string;
  retentionMs: number;
  /** This process ("host:pid:start"), so that a restart can tell its dead predecessor's calls from a live neighbour's. */
  owner: string;
}

/** What the ledger keeps of a call that started executing: its result, or the error it ended with. */
type StoredOutcome = { result: CallToolResult } | { error: ReturnType<GatehouseError['toJSON']> };

/**
 * Marks an outcome from `run` as having reached execution, so that it is stored even when it is
 * an error. `begin` is awaited right before the call goes downstream: it notes that in the
 * ledger, so that a crash from then on leaves the key `unknown` instead of free.
 */
export class ExecutionStarted {
  started = false;

  constructor(private readonly onBegin: () => Promise<void> = async () => undefined) {}

  async begin(): Promise<void> {
    await this.onBegin();
    this.started = true;
  }
}

/**
 * Runs `run` at most once per (agent, tool, key) within the retention window, after Stripe
 * and the IETF Idempotency-Key draft: a repeat gets the stored outcome marked as a replay;
 * the key with other arguments is refused (422-like); a repeat while the first still runs
 * is refused as a conflict (409-like), never executed a second time. An outcome is stored
 * once execution started; a call stopped before that (denied, pending) leaves the key
 * `failed`, free for the next attempt.
 */
export async function runOnce(
  ledger: IdempotencyLedger,
  call: KeyedCall,
  record: RecordEvent,
  run: (execution: ExecutionStarted) => Promise<CallToolResult>,
): Promise<{ result: CallToolResult; replay: boolean }> {
  const now = new Date();
  const existing = await ledger.get(call.agent, call.tool, call.key, now.toISOString());
  if (existing && existing.state !== 'failed') return { result: answerFromLedger(existing, call, record), replay: true };
  const claim = await ledger.claim({
    agent: call.agent,
    tool: call.tool,
    key: call.key,
    fingerprint: call.fingerprint,
    createdAt: now.toISOString(),
    expiresAt: new Date(now.getTime() + call.retentionMs).toISOString(),
    owner: call.owner,
  });
  if (!claim.claimed) return { result: answerFromLedger(claim.existing, call, record), replay: true };
  const execution = new ExecutionStarted(() => ledger.markStarted(call.agent, call.tool, call.key, new Date().toISOString()));
  try {
    const result = await run(execution);
    await ledger.complete(call.agent, call.tool, call.key, 'committed', { result } satisfies StoredOutcome);
    return { result, replay: false };
  } catch (error) {
    if (execution.started && isGatehouseError(error)) {
      await ledger.complete(call.agent, call.tool, call.key, 'committed', { error: error.toJSON() } satisfies StoredOutcome);
    } else {
      await ledger.complete(call.agent, call.tool, call.key, 'failed');
    }
    throw error;
  }
}

function answerFromLedger(existing: IdempotencyRecord, call: KeyedCall, record: RecordEvent): CallToolResult {
  const data = { tool: call.tool, key: call.key };
  if (existing.fingerprint !== call.fingerprint) {
    throw new GatehouseError('GH_IDEMPOTENCY_MISMATCH', `idempotency key "${call.key}" was used for "${call.tool}" with other arguments; use a new key for a new call`, data);
  }
  if (existing.state === 'unknown') {
    throw new GatehouseError(
      'GH_OUTCOME_UNKNOWN',
      `the call with idempotency key "${call.key}" was in flight when its gateway stopped (started ${existing.startedAt ?? existing.createdAt}); whether it ran is unknown, so it is not sent again. An operator must decide: gatehouse commits resolve ${call.key} --sent|--not-sent`,
      { ...data, startedAt: existing.startedAt ?? null },
    );
  }
  if (existing.state === 'in_progress') {
    throw new GatehouseError('GH_IDEMPOTENCY_CONFLICT', `a call with idempotency key "${call.key}" is still running; it was not executed again`, data);
  }
  // A failed record is reclaimed by `claim`; only a committed one gets here.
  record({
    type: 'idempotent.replay',
    agent: call.agent,
    profile: call.profile,
    server: call.server,
    tool: call.tool.slice(call.server.length + 1),
    payload: { key: call.key, firstAt: existing.createdAt },
  });
  const stored = existing.result as StoredOutcome;
  if ('error' in stored) {
    throw new GatehouseError(stored.error.code, stored.error.message, { ...stored.error.data, replay: true, firstAt: existing.createdAt });
  }
  return { ...stored.result, _meta: { ...stored.result._meta, 'gatehouse/replay': { key: call.key, firstAt: existing.createdAt } } };
}

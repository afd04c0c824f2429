import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { GatehouseError, isGatehouseError } from '../../core/errors.js';
import type { RecordEvent } from '../../core/events.js';
import type { Gate } from '../../core/gates.js';
import { mayRetry, retryDelayMs, RETRYABLE_CODES } from '../../core/retry-rules.js';
import type { ServerConnection } from '../../downstream/server-connection.js';
import type { Resilience } from '../../resilience/resilience.js';
import { forward } from './forward.js';
import { IDEMPOTENCY_META_KEY } from './govern.js';
import type { DecidedCall } from './types.js';
import type { CallTrace } from './telemetry.js';

export interface ProtectDeps {
  resilience: Resilience;
  record: RecordEvent;
}

/**
 * Stage 5 with its guards: the server's bulkhead, then attempts through
 * its circuit breaker with the tool's timeout, each result's size checked. A failed attempt is
 * retried (at most retry.maxRetries times, exponential backoff with full jitter) only when the
 * failure is transient (not a start that timed out; after the server died during the call, once
 * only, as the call may be what killed it), repeating the call is safe (see mayRetry),
 * and another attempt as long as the last still fits in one attempt's own bound (start timeout
 * plus call timeout) counted from the first; each retry is recorded as retry.scheduled. Runs inside governance, so that an
 * idempotency key covers every attempt.
 */
export async function protect(deps: ProtectDeps, call: DecidedCall, gate: Gate, connection: ServerConnection, trace: CallTrace): Promise<CallToolResult> {
  const guard = deps.resilience.guard(call.server);
  const tool = deps.resilience.tools.of(call.server, call.tool.name);
  const timeoutMs = tool.callTimeoutMs ?? guard.callTimeoutMs;
  const release = guard.bulkhead.tryAcquire() ?? (await guard.bulkhead.acquire(call.cancel?.signal));
  try {
    const retrySafe = mayRetry({ gate, idempotent: tool.idempotent, hasIdempotencyKey: call.meta?.[IDEMPOTENCY_META_KEY] !== undefined });
    const started = performance.now();
    const budgetMs = guard.startTimeoutMs + timeoutMs;
    for (let attempt = 1; ; attempt += 1) {
      const attemptStarted = performance.now();
      try {
        const result = await guard.circuit.run(() => forward(call, connection, trace, timeoutMs));
        checkResultSize(call, result, guard.maxResultBytes);
        return result;
      } catch (error) {
        const transient = isGatehouseError(error) && RETRYABLE_CODES.has(error.code) && error.data.startTimedOut !== true;
        // A call in flight when the server died may be what killed it: one more try, not two (each crash fails every call in flight).
        const retries = isGatehouseError(error) && error.data.incident !== undefined ? Math.min(1, guard.retry.maxRetries) : guard.retry.maxRetries;
        if (!transient || !retrySafe || attempt > retries || call.cancel?.aborted) throw error;
        const delayMs = retryDelayMs(attempt, guard.retry.baseDelayMs, guard.retry.maxDelayMs);
        const now = performance.now();
        if (now - started + delayMs + (now - attemptStarted) >= budgetMs) throw error;
        deps.record({
          type: 'retry.scheduled',
          agent: call.caller.agent.name,
          profile: call.caller.profile.name,
          server: call.server,
          tool: call.tool.name,
          payload: { session: call.caller.session, retry: attempt, of: guard.retry.maxRetries, delayMs, code: error.code, message: error.message, gate, idempotent: tool.idempotent },
        });
        await sleep(delayMs, call.cancel?.signal);
      }
    }
  } finally {
    release();
  }
}

/** Part of validation (run.ts): a call too large to send is refused before any approval is asked for. */
export function checkRequestSize(call: DecidedCall, limit: number): void {
  const bytes = jsonBytes(call.arguments, limit);
  if (bytes <= limit) return;
  throw new GatehouseError('GH_REQUEST_TOO_LARGE', `the arguments of "${call.name}" have ${bytes} bytes, over the limit of ${limit} bytes for server "${call.server}" (maxRequestBytes); nothing was sent`, {
    server: call.server,
    tool: call.name,
    bytes,
    limitBytes: limit,
  });
}

function checkResultSize(call: DecidedCall, result: CallToolResult, limit: number): void {
  const bytes = jsonBytes(result, limit);
  if (bytes <= limit) return;
  throw new GatehouseError('GH_RESULT_TOO_LARGE', `the result of "${call.name}" has ${bytes} bytes, over the limit of ${limit} bytes for server "${call.server}" (maxResultBytes); it was dropped`, {
    server: call.server,
    tool: call.name,
    bytes,
    limitBytes: limit,
  });
}

/** UTF-8 size of a value as JSON; counts the bytes only when the characters alone could exceed the limit. */
function jsonBytes(value: unknown, limit: number): number {
  const text = JSON.stringify(value) ?? '';
  return text.length * 3 <= limit ? text.length : Buffer.byteLength(text);
}

function sleep(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(done, ms);
    function done(): void {
      signal?.removeEventListener('abort', aborted);
      resolve();
    }
    function aborted(): void {
      clearTimeout(timer);
      reject(new GatehouseError('GH_CANCELLED', 'the call was cancelled by the client while waiting to retry'));
    }
    signal?.addEventListener('abort', aborted, { once: true });
  });
}

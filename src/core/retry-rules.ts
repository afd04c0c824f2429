import type { ErrorCode } from './errors.js';
import type { Gate } from './gates.js';

/**
 * Failures after which a second attempt can succeed and the first one did not leave a result
 * behind that the agent would lose: the server could not be reached, or went away during the
 * call. A timeout is not among them (the agent already waited its whole budget, and the server
 * may still be working), nor a tool's own error or a protocol error (the server answered).
 */
export const RETRYABLE_CODES: ReadonlySet<ErrorCode> = new Set<ErrorCode>(['GH_DOWNSTREAM_UNAVAILABLE']);

/** What decides whether a failed call may run again. */
export interface RetrySafety {
  gate: Gate;
  /** `servers.S.tools.<glob>.idempotent: true` in the config. */
  idempotent: boolean;
  /** The call carries an idempotency key that the server receives again on every attempt. */
  hasIdempotencyKey: boolean;
}

/**
 * Whether a call may be retried at all: G0 tools (read-only) always; tools the operator marked
 * idempotent, except that a G2/G3 call (a database write, an external send) also needs its
 * idempotency key, so that the server can recognise the repeat. Anything else runs at most once.
 */
export function mayRetry(safety: RetrySafety): boolean {
  if (safety.gate === 'G0') return true;
  if (!safety.idempotent) return false;
  if (safety.gate === 'G2' || safety.gate === 'G3') return safety.hasIdempotencyKey;
  return true;
}

/**
 * Delay before retry number `attempt` (1-based): exponential backoff with full jitter, a random
 * delay between 0 and min(maxMs, baseMs · 2^(attempt-1)), so that callers that failed together do
 * not come back together. `random` is injectable for tests.
 */
export function retryDelayMs(attempt: number, baseMs: number, maxMs: number, random: () => number = Math.random): number {
  const ceiling = Math.min(maxMs, baseMs * 2 ** (attempt - 1));
  return Math.round(random() * ceiling);
}

import { BrokenCircuitError, CircuitState, ConsecutiveBreaker, SamplingBreaker, circuitBreaker, handleWhen, type CircuitBreakerPolicy, type IBreaker } from 'cockatiel';
import { GatehouseError, isGatehouseError, type ErrorCode } from '../core/errors.js';

/** The settings of one server's breaker, defaults merged in. */
export interface CircuitSettings {
  enabled: boolean;
  consecutiveFailures: number;
  failureRatio?: number | undefined;
  samplingWindowMs: number;
  minimumCallsPerSecond: number;
  halfOpenAfterMs: number;
}

export type CircuitStatus =
  | { state: 'closed' }
  | { state: 'open'; retryAt: string; lastFailure: string | null }
  | { state: 'half_open' };

/** What the owner records on every change of state. */
export interface CircuitHooks {
  opened(server: string, info: { retryAt: string; halfOpenAfterMs: number; rule: string; lastFailure: { code: string; message: string } | null }): void;
  halfOpened(server: string): void;
  closed(server: string): void;
}

/**
 * Failures that say the server is unwell, as opposed to the call being wrong: it could not be
 * reached or started, did not answer in time, or answered with garbage. A tool's own error
 * result, a protocol error about the arguments, or a cancellation does not count; nor does
 * GH_SERVER_FAILED, a refusal by the supervisor, which already fails fast until its own backoff
 * ends (counting it would keep the circuit open long after the server is back).
 */
const SERVER_FAILURES: ReadonlySet<ErrorCode> = new Set<ErrorCode>(['GH_DOWNSTREAM_UNAVAILABLE', 'GH_DOWNSTREAM_TIMEOUT', 'GH_DOWNSTREAM_INVALID']);

export function isServerFailure(error: unknown): boolean {
  return isGatehouseError(error) && SERVER_FAILURES.has(error.code);
}

/** Incidents remembered per server: enough to recognise the stragglers of the last few lost connections. */
const INCIDENTS_REMEMBERED = 8;

/**
 * The circuit breaker of one downstream server (cockatiel's, with its Consecutive or Sampling
 * breaker). Closed, calls pass and failures are counted; open, calls fail at once with
 * GH_CIRCUIT_OPEN naming when the server will be tried again; after halfOpenAfterMs the next call
 * is the probe, and only it: others arriving during the probe fail fast too (cockatiel would make
 * them wait for the probe, which can take a whole call timeout).
 */
export class ServerCircuit {
  private readonly policy: CircuitBreakerPolicy | undefined;
  private retryAt = 0;
  private lastFailure: { code: string; message: string } | null = null;
  private readonly incidents: string[] = [];

  constructor(
    readonly server: string,
    private readonly settings: CircuitSettings,
    hooks: CircuitHooks,
  ) {
    if (!settings.enabled) return;
    const breaker: IBreaker =
      settings.failureRatio === undefined
        ? new ConsecutiveBreaker(settings.consecutiveFailures)
        : new SamplingBreaker({ threshold: settings.failureRatio, duration: settings.samplingWindowMs, minimumRps: settings.minimumCallsPerSecond });
    const rule =
      settings.failureRatio === undefined
        ? `${settings.consecutiveFailures} failed calls in a row`
        : `${Math.round(settings.failureRatio * 100)}% of calls failed within ${settings.samplingWindowMs} ms`;
    this.policy = circuitBreaker(handleWhen((error) => isServerFailure(error) && this.firstOfIncident(error)), { halfOpenAfter: settings.halfOpenAfterMs, breaker });
    this.policy.onBreak((reason) => {
      this.retryAt = Date.now() + settings.halfOpenAfterMs;
      const error = 'error' in reason ? reason.error : undefined;
      this.lastFailure = isGatehouseError(error) ? { code: error.code, message: error.message } : null;
      hooks.opened(server, { retryAt: new Date(this.retryAt).toISOString(), halfOpenAfterMs: settings.halfOpenAfterMs, rule, lastFailure: this.lastFailure });
    });
    this.policy.onHalfOpen(() => hooks.halfOpened(server));
    this.policy.onReset(() => hooks.closed(server));
  }

  status(): CircuitStatus {
    switch (this.policy?.state) {
      case CircuitState.Open:
      case CircuitState.Isolated:
        return { state: 'open', retryAt: new Date(this.retryAt).toISOString(), lastFailure: this.lastFailure ? `${this.lastFailure.code}: ${this.lastFailure.message}` : null };
      case CircuitState.HalfOpen:
        return { state: 'half_open' };
      default:
        return { state: 'closed' };
    }
  }

  /** Runs one attempt of a call through the breaker. */
  async run<T>(attempt: () => Promise<T>): Promise<T> {
    const policy = this.policy;
    if (!policy) return attempt();
    if (policy.state === CircuitState.HalfOpen) throw this.openError('a probe call is testing it now');
    try {
      return await policy.execute(() => attempt());
    } catch (error) {
      if (error instanceof BrokenCircuitError) throw this.openError(undefined);
      throw error;
    }
  }

  /**
   * A lost connection fails every call in flight on it; only the first of them counts against the
   * server (the others are passed on uncounted). A crash loop is the supervisor's to catch.
   */
  private firstOfIncident(error: unknown): boolean {
    const incident = isGatehouseError(error) ? error.data.incident : undefined;
    if (typeof incident !== 'string') return true;
    if (this.incidents.includes(incident)) return false;
    this.incidents.push(incident);
    if (this.incidents.length > INCIDENTS_REMEMBERED) this.incidents.shift();
    return true;
  }

  private openError(probing: string | undefined): GatehouseError {
    const retryAt = new Date(this.retryAt).toISOString();
    const why = this.lastFailure ? ` (last failure: ${this.lastFailure.code}: ${this.lastFailure.message})` : '';
    const when = probing ? `${probing}; try again in a moment` : `it will be tried again at ${retryAt}`;
    return new GatehouseError('GH_CIRCUIT_OPEN', `server "${this.server}" is unavailable: its circuit is open after repeated failures${why}; ${when}`, {
      server: this.server,
      retryAt,
      retryAfterMs: Math.max(0, this.retryAt - Date.now()),
      probing: probing !== undefined,
      lastFailure: this.lastFailure,
    });
  }
}

import { GatehouseError } from '../core/errors.js';
import { TokenBucket } from '../core/token-bucket.js';
import type { RateLimitConfig } from '../config/schema.js';

/** Where limits come from: `agents.A.rateLimit` and `profiles.P.rateLimit`. */
export interface RateLimitSources {
  agents: Readonly<Record<string, { rateLimit?: RateLimitConfig | undefined }>>;
  profiles: Readonly<Record<string, { rateLimit?: RateLimitConfig | undefined }>>;
}

/**
 * Per-agent token buckets: one for the agent over all its profiles (agents.A.rateLimit), and one
 * per agent within a profile (profiles.P.rateLimit). A call takes a token from each that applies;
 * when one is empty the call is refused with GH_RATE_LIMITED and the wait until a token is back.
 */
export class RateLimiter {
  private readonly buckets = new Map<string, TokenBucket>();

  constructor(private readonly sources: RateLimitSources) {}

  admit(agent: string, profile: string, now = Date.now()): void {
    const agentLimit = this.sources.agents[agent]?.rateLimit;
    const profileLimit = this.sources.profiles[profile]?.rateLimit;
    if (agentLimit) this.take(`agent\u0000${agent}`, agentLimit, now, `agent "${agent}"`, 'agents', agent);
    if (profileLimit) this.take(`profile\u0000${profile}\u0000${agent}`, profileLimit, now, `agent "${agent}" on profile "${profile}"`, 'profiles', profile);
  }

  private take(key: string, limit: RateLimitConfig, now: number, who: string, section: string, name: string): void {
    const burst = limit.burst ?? Math.max(1, Math.ceil(limit.callsPerSecond));
    let bucket = this.buckets.get(key);
    if (!bucket) {
      bucket = new TokenBucket(limit.callsPerSecond, burst, now);
      this.buckets.set(key, bucket);
    }
    const taken = bucket.take(now);
    if (taken.ok) return;
    throw new GatehouseError(
      'GH_RATE_LIMITED',
      `rate limit: ${who} may make ${limit.callsPerSecond} calls per second (bursts of ${burst}); retry after ${taken.retryAfterMs} ms`,
      { retryAfterMs: taken.retryAfterMs, callsPerSecond: limit.callsPerSecond, burst, limit: `${section}.${name}.rateLimit` },
    );
  }
}

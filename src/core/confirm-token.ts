import { createHmac, timingSafeEqual } from 'node:crypto';
import { GatehouseError } from './errors.js';

/** What a G3 confirm token vouches for. */
export interface ConfirmClaims {
  /** Preflight id: the idempotency key of the commit, so a confirm executes once. */
  preflight: string;
  /** Binding hash of the planned call (tool, arguments, agent, profile, policy version). */
  planHash: string;
  agent: string;
  profile: string;
  /** Approval request created with the preflight, when a human must also approve. */
  approval?: string;
  /** Epoch milliseconds from which the token is refused: it is valid while now < expiresAt. */
  expiresAt: number;
}

const PREFIX = 'ghc1';

/**
 * Confirm tokens: `ghc1.<claims>.<HMAC-SHA256>`, both parts base64url. The key lives in the
 * store, so every gateway process on that store can verify every other's tokens; the token
 * itself holds no secret and grants nothing without the exact arguments it was issued for.
 */
export class ConfirmTokens {
  constructor(private readonly key: Buffer) {
    if (key.length < 32) throw new Error('confirm-token key must be at least 32 bytes');
  }

  issue(claims: ConfirmClaims): string {
    const body = Buffer.from(JSON.stringify(claims)).toString('base64url');
    return `${PREFIX}.${body}.${this.sign(body)}`;
  }

  /**
   * The claims of a genuine, unexpired token issued to this agent on this profile for this
   * exact plan; otherwise GH_CONFIRM_INVALID naming what is wrong.
   */
  verify(token: unknown, expected: { planHash: string; agent: string; profile: string; now: number }): ConfirmClaims {
    const claims = this.open(token);
    const refuse = (why: string) => new GatehouseError('GH_CONFIRM_INVALID', `confirm token refused: ${why}`, { preflight: claims.preflight, why });
    if (claims.agent !== expected.agent || claims.profile !== expected.profile) {
      throw refuse(`it was issued to agent "${claims.agent}" on profile "${claims.profile}"`);
    }
    if (claims.expiresAt <= expected.now) throw refuse(`it expired at ${new Date(claims.expiresAt).toISOString()}; ask for a new preflight`);
    if (claims.planHash !== expected.planHash) {
      throw refuse('the tool or arguments differ from the preflight it was issued for; send exactly the previewed arguments, or ask for a new preflight');
    }
    return claims;
  }

  private open(token: unknown): ConfirmClaims {
    const malformed = (why: string) => new GatehouseError('GH_CONFIRM_INVALID', `confirm token refused: ${why}`, { why });
    if (typeof token !== 'string') throw malformed('confirm_token must be the string the preflight returned');
    const [prefix, body, signature, ...rest] = token.split('.');
    if (prefix !== PREFIX || !body || !signature || rest.length > 0) throw malformed('it is not a Gatehouse confirm token');
    const expected = Buffer.from(this.sign(body));
    const given = Buffer.from(signature);
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) throw malformed('its signature does not match (altered, or issued by another store)');
    return JSON.parse(Buffer.from(body, 'base64url').toString('utf8')) as ConfirmClaims;
  }

  private sign(body: string): string {
    return createHmac('sha256', this.key).update(body).digest('base64url');
  }
}

import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, linkSync, mkdirSync, readFileSync, unlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { GatehouseConfig } from '../config/load.js';
import { sha256Hex } from '../core/binding.js';
import { GatehouseError } from '../core/errors.js';

/** A known agent: its name and the profiles its token opens. */
export interface AgentIdentity {
  readonly name: string;
  readonly profiles: readonly string[];
}

/**
 * Bearer tokens, held only as SHA-256 digests: a token never sits in memory longer than one
 * lookup and is never logged. Agents whose token source is missing (env var unset) are
 * skipped with a warning rather than stopping the gateway.
 */
export class TokenBook {
  private readonly byDigest = new Map<string, AgentIdentity>();
  private readonly operatorsByDigest = new Map<string, string>();
  readonly warnings: string[] = [];

  constructor(config: GatehouseConfig, env: NodeJS.ProcessEnv) {
    for (const [name, agent] of Object.entries(config.agents)) {
      const digest = tokenDigest(agent, `agents.${name}`, env, () => this.warnings.push(`agent "${name}": environment variable ${agent.tokenEnv} is not set; it cannot connect over HTTP`));
      if (!digest) continue;
      const holder = this.byDigest.get(digest);
      // Whoever holds a shared token would open both agents' profiles, as the later one.
      if (holder) throw new GatehouseError('GH_CONFIG_INVALID', `agents "${holder.name}" and "${name}" have the same token: each agent needs its own`, { agents: [holder.name, name] });
      this.byDigest.set(digest, { name, profiles: agent.profiles });
    }
    for (const [name, operator] of Object.entries(config.operators)) {
      const digest = tokenDigest(operator, `operators.${name}`, env, () => this.warnings.push(`operator "${name}": environment variable ${operator.tokenEnv} is not set; it cannot decide approvals over HTTP`));
      if (!digest) continue;
      // A token that is also an agent's stays an agent's: an agent must never pass as an operator.
      if (this.byDigest.has(digest)) {
        this.warnings.push(`operator "${name}" has the same token as an agent; it is ignored`);
        continue;
      }
      const other = this.operatorsByDigest.get(digest);
      // Every decision made with a shared token would be recorded as the later operator's.
      if (other) throw new GatehouseError('GH_CONFIG_INVALID', `operators "${other}" and "${name}" have the same token: each operator needs its own`, { operators: [other, name] });
      this.operatorsByDigest.set(digest, name);
    }
  }

  /** The operator a bearer token belongs to; an agent's token is refused with GH_NOT_OPERATOR. */
  authenticateOperator(token: string | undefined): string {
    if (!token) throw new GatehouseError('GH_AUTH_MISSING', 'missing bearer token (Authorization: Bearer <operator token>)');
    const digest = sha256Hex(token);
    const operator = this.operatorsByDigest.get(digest);
    if (operator) return operator;
    const agent = this.byDigest.get(digest);
    if (agent) throw new GatehouseError('GH_NOT_OPERATOR', `the token of agent "${agent.name}" is not an operator's; this endpoint needs an operator token`, { agent: agent.name });
    throw new GatehouseError('GH_AUTH_UNKNOWN_TOKEN', 'unknown bearer token');
  }

  /** The agent a bearer token belongs to, or a GH_AUTH_* error. */
  authenticate(token: string | undefined): AgentIdentity {
    if (!token) throw new GatehouseError('GH_AUTH_MISSING', 'missing bearer token (Authorization: Bearer <token>)');
    const agent = this.byDigest.get(sha256Hex(token));
    if (!agent) throw new GatehouseError('GH_AUTH_UNKNOWN_TOKEN', 'unknown bearer token');
    return agent;
  }

  static authorize(agent: AgentIdentity, profile: string): void {
    if (!agent.profiles.includes(profile)) {
      throw new GatehouseError('GH_AUTH_PROFILE_FORBIDDEN', `agent "${agent.name}" may not use profile "${profile}"`, {
        agent: agent.name,
        profile,
      });
    }
  }
}

function tokenDigest(
  source: { tokenSha256?: string | undefined; tokenEnv?: string | undefined; tokenFile?: string | undefined },
  configKey: string,
  env: NodeJS.ProcessEnv,
  missingEnv: () => void,
): string | undefined {
  if (source.tokenSha256) return source.tokenSha256;
  if (source.tokenEnv) {
    const token = env[source.tokenEnv];
    if (token) return sha256Hex(token);
    missingEnv();
    return undefined;
  }
  if (!source.tokenFile) return undefined;
  let token: string;
  try {
    token = readOrCreateTokenFile(source.tokenFile);
  } catch (error) {
    const why = (error as NodeJS.ErrnoException).code === 'EISDIR' ? 'it is a folder' : (error as Error).message;
    throw new GatehouseError('GH_CONFIG_INVALID', `${configKey}.tokenFile ${source.tokenFile} cannot be read or created: ${why}`, { key: `${configKey}.tokenFile` });
  }
  if (token === '') throw new GatehouseError('GH_CONFIG_INVALID', `${configKey}.tokenFile ${source.tokenFile} is empty: no token could ever match it`, { key: `${configKey}.tokenFile` });
  return sha256Hex(token);
}

/**
 * Reads a token file, creating it with 32 random bytes (base64url, mode 0600) when it does not
 * exist. The token is written to a file of this process's own first and then linked into place,
 * which fails if the file exists: processes starting together agree on one token, and none reads
 * the file between its creation and its content (as with an exclusive create, then a write).
 */
export function readOrCreateTokenFile(file: string): string {
  if (!existsSync(file)) {
    mkdirSync(path.dirname(file), { recursive: true });
    const draft = `${file}.${process.pid}-${randomBytes(4).toString('hex')}.new`;
    writeFileSync(draft, `${randomBytes(32).toString('base64url')}\n`, { mode: 0o600, flag: 'wx' });
    try {
      linkSync(draft, file);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error; // another process made it first
    } finally {
      unlinkSync(draft);
    }
  }
  chmodSync(file, 0o600);
  return readFileSync(file, 'utf8').trim();
}

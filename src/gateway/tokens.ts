import { createHash, randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { GatehouseConfig } from '../config/load.js';
import { GatehouseError } from '../core/errors.js';

/** A known agent: its name and the profiles its token opens. */
export interface AgentIdentity {
  readonly name: string;
  readonly profiles: readonly string[];
}

export function sha256Hex(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

/**
 * Bearer tokens, held only as SHA-256 digests: a token never sits in memory longer than one
 * lookup and is never logged. Agents whose token source is missing (env var unset) are
 * skipped with a warning rather than stopping the gateway.
 */
export class TokenBook {
  private readonly byDigest = new Map<string, AgentIdentity>();
  readonly warnings: string[] = [];

  constructor(config: GatehouseConfig, env: NodeJS.ProcessEnv) {
    for (const [name, agent] of Object.entries(config.agents)) {
      let digest: string | undefined;
      if (agent.tokenSha256) digest = agent.tokenSha256;
      else if (agent.tokenEnv) {
        const token = env[agent.tokenEnv];
        if (token) digest = sha256Hex(token);
        else this.warnings.push(`agent "${name}": environment variable ${agent.tokenEnv} is not set; it cannot connect over HTTP`);
      } else if (agent.tokenFile) digest = sha256Hex(readOrCreateTokenFile(agent.tokenFile));
      if (digest) this.byDigest.set(digest, { name, profiles: agent.profiles });
    }
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

/** Reads a token file, creating it with 32 random bytes (base64url, mode 0600) when it does not exist. */
export function readOrCreateTokenFile(file: string): string {
  if (!existsSync(file)) {
    mkdirSync(path.dirname(file), { recursive: true });
    try {
      writeFileSync(file, `${randomBytes(32).toString('base64url')}\n`, { mode: 0o600, flag: 'wx' });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error; // another process made it first
    }
  }
  chmodSync(file, 0o600);
  return readFileSync(file, 'utf8').trim();
}

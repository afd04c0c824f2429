import { allowsServer, compileAllowlist, type Allowlist } from '../core/allowlist.js';
import type { GatehouseConfig } from '../config/load.js';
import type { ApprovalConfig } from '../config/schema.js';

/** A profile ready for use: which servers it can touch and which tools it allows. */
export interface Profile {
  readonly name: string;
  readonly mode: 'eager' | 'lazy';
  readonly names: 'namespaced' | 'plain';
  readonly servers: readonly string[];
  readonly allows: Allowlist;
  /** How G2/G3 calls of this profile wait for a human. */
  readonly approval: ApprovalConfig;
}

export function compileProfiles(config: GatehouseConfig): ReadonlyMap<string, Profile> {
  const serverNames = Object.keys(config.servers);
  return new Map(
    Object.entries(config.profiles).map(([name, profile]) => [
      name,
      {
        name,
        mode: profile.mode,
        names: profile.names,
        servers: serverNames.filter((server) => allowsServer(profile.allow, server)),
        allows: compileAllowlist(profile.allow),
        approval: profile.approval,
      },
    ]),
  );
}

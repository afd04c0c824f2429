import type { GatehouseConfig } from '../config/load.js';
import { compileAllowlist, matchesGlob } from '../core/allowlist.js';
import type { SchemaCache } from '../ports/schema-cache.js';

/**
 * Tool names in the config that match no tool the server lists: a setting under
 * `servers.<s>.tools.<name>` (a misspelt gate rule leaves the tool at its default gate) or a
 * profile allow entry (the tool is then simply unavailable). Only servers whose listing is
 * known are judged; `listings` maps a server to its tool names. Each line names the config key.
 */
export function unmatchedToolNames(config: Pick<GatehouseConfig, 'servers' | 'profiles'>, listings: ReadonlyMap<string, readonly string[]>): string[] {
  const problems: string[] = [];
  for (const [server, settings] of Object.entries(config.servers)) {
    const tools = listings.get(server);
    if (!tools) continue;
    for (const pattern of Object.keys(settings.tools)) {
      if (!tools.some((tool) => tool === pattern || matchesGlob(pattern, tool))) {
        problems.push(`servers.${server}.tools.${pattern}: matches no tool of "${server}" (${nearest(pattern, tools)})`);
      }
    }
  }
  for (const [profile, settings] of Object.entries(config.profiles)) {
    settings.allow.forEach((entry, index) => {
      const serverPattern = entry.slice(0, entry.indexOf('/'));
      const servers = Object.keys(config.servers).filter((server) => matchesGlob(serverPattern, server));
      // Judged only when every server the entry can name has a known listing.
      if (servers.length === 0 || servers.some((server) => !listings.has(server))) return;
      const allows = compileAllowlist([entry]);
      if (!servers.some((server) => listings.get(server)!.some((tool) => allows(server, tool)))) {
        problems.push(`profiles.${profile}.allow[${index}]: "${entry}" matches no listed tool`);
      }
    });
  }
  return problems;
}

/** The tool names of each of these servers whose listing the schema cache holds. */
export async function cachedToolNames(cache: SchemaCache, servers: readonly string[]): Promise<Map<string, string[]>> {
  const listings = new Map<string, string[]>();
  for (const server of servers) {
    const listing = await cache.get(server);
    if (listing) listings.set(server, listing.tools.map((tool) => tool.name));
  }
  return listings;
}

/** "did you mean X?" for the closest name, else how many tools there are. */
function nearest(name: string, tools: readonly string[]): string {
  const scored = tools.map((tool) => ({ tool, distance: editDistance(name, tool) })).sort((a, b) => a.distance - b.distance);
  const best = scored[0];
  return best && best.distance <= Math.max(2, Math.floor(name.length / 4)) ? `did you mean "${best.tool}"?` : `it lists ${tools.length} tools`;
}

function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) current[j] = Math.min(previous[j]! + 1, current[j - 1]! + 1, previous[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    previous = current;
  }
  return previous[b.length]!;
}

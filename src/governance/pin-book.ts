import type { Tool } from '@modelcontextprotocol/sdk/types.js';
import { canonicalJson, sha256Hex } from '../core/binding.js';
import type { PinStore } from '../ports/pin-store.js';
import type { ServerListing } from '../ports/schema-cache.js';
import type { RecordEvent } from './approval-desk.js';

/** What is pinned of a tool: everything an agent (or its model) reads before calling it. */
export function pinnedPart(tool: Tool): Record<string, unknown> {
  const { name, title, description, inputSchema, outputSchema, annotations } = tool;
  return { name, title, description, inputSchema, outputSchema, annotations };
}

export function toolHash(tool: Tool): string {
  return sha256Hex(canonicalJson(pinnedPart(tool)));
}

/**
 * Tool pinning, trust on first use: the first definition seen of each tool is pinned; a later
 * listing with a different definition quarantines the tool (hidden, refused, one event) until
 * a human accepts it with `gatehouse tools accept`. Quarantine state is read back from the
 * store when it changes, so an acceptance in another process takes effect here too.
 */
export class PinBook {
  private quarantined = new Set<string>();
  private seenVersion = -1;

  constructor(
    private readonly store: PinStore,
    private readonly record: RecordEvent,
  ) {
    this.refresh();
  }

  /** Pins new tools and quarantines changed ones; returns the names newly quarantined. */
  check(server: string, listing: ServerListing): string[] {
    const at = new Date().toISOString();
    const newlyQuarantined: string[] = [];
    for (const tool of listing.tools) {
      const hash = toolHash(tool);
      const pin = this.store.get(server, tool.name);
      if (!pin) {
        this.store.pin(server, tool.name, hash, pinnedPart(tool), at);
        continue;
      }
      if (pin.hash === hash || (pin.status === 'quarantined' && pin.changedHash === hash)) continue;
      this.store.quarantine(server, tool.name, hash, pinnedPart(tool), at);
      newlyQuarantined.push(tool.name);
      this.record({ type: 'tool.quarantined', server, tool: tool.name, payload: { pinnedHash: pin.hash, newHash: hash, changed: changedParts(pin.definition, pinnedPart(tool)) } });
    }
    if (newlyQuarantined.length > 0) this.refresh();
    return newlyQuarantined;
  }

  isQuarantined(server: string, tool: string): boolean {
    return this.quarantined.has(`${server}/${tool}`);
  }

  /** Re-reads quarantine state when any process changed a pin; true when something changed. */
  refresh(): boolean {
    const version = this.store.version();
    if (version === this.seenVersion) return false;
    this.seenVersion = version;
    const next = new Set(this.store.all().filter((pin) => pin.status === 'quarantined').map((pin) => `${pin.server}/${pin.tool}`));
    const changed = next.size !== this.quarantined.size || [...next].some((key) => !this.quarantined.has(key));
    this.quarantined = next;
    return changed;
  }
}

function changedParts(before: unknown, after: Record<string, unknown>): string[] {
  const old = (before ?? {}) as Record<string, unknown>;
  return Object.keys(after).filter((key) => canonicalJson(old[key] ?? null) !== canonicalJson(after[key] ?? null));
}

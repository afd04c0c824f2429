import { GatehouseError } from '../core/errors.js';
import type { Tool } from '@modelcontextprotocol/sdk/types.js';
import { canonicalJson, sha256Hex } from '../core/binding.js';
import type { PinState, PinStore } from '../ports/pin-store.js';
import type { ServerListing } from '../ports/schema-cache.js';
import type { RecordEvent } from '../core/events.js';

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
  /** Every pin's state, as last read from the store (re-read whenever the store's pin version moves). */
  private pins = new Map<string, PinState>();
  private seenVersion = -1;
  /** check and refresh run one at a time, so that a slow read never overwrites a newer one. */
  private turn: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly store: PinStore,
    private readonly record: RecordEvent,
  ) {}

  /** Pins new tools and quarantines changed ones; returns the names newly quarantined. */
  check(server: string, listing: ServerListing): Promise<string[]> {
    return this.inTurn(async () => {
      await this.load();
      const at = new Date().toISOString();
      const newlyQuarantined: string[] = [];
      let changed = false;
      for (const tool of listing.tools) {
        const hash = toolHash(tool);
        const pin = this.pins.get(keyOf(server, tool.name));
        if (!pin) {
          await this.store.pin(server, tool.name, hash, pinnedPart(tool), at);
          changed = true;
          continue;
        }
        if (pin.hash === hash || (pin.status === 'quarantined' && pin.changedHash === hash)) continue;
        const pinnedDefinition = (await this.store.get(server, tool.name))?.definition;
        await this.store.quarantine(server, tool.name, hash, pinnedPart(tool), at);
        changed = true;
        newlyQuarantined.push(tool.name);
        this.record({ type: 'tool.quarantined', server, tool: tool.name, payload: { pinnedHash: pin.hash, newHash: hash, changed: changedParts(pinnedDefinition, pinnedPart(tool)) } });
      }
      if (changed) await this.load();
      return newlyQuarantined;
    });
  }

  /** From memory: the hot path of every call asks this. */
  isQuarantined(server: string, tool: string): boolean {
    return this.pins.get(keyOf(server, tool))?.status === 'quarantined';
  }

  /**
   * Refuses a quarantined tool (GH_TOOL_QUARANTINED): its changed definition is neither run nor
   * shown (describe_tool) until an operator accepts it. `exposed`: the name the agent used.
   */
  refuseQuarantined(server: string, tool: string, exposed: string): void {
    if (!this.isQuarantined(server, tool)) return;
    throw new GatehouseError('GH_TOOL_QUARANTINED', `tool "${exposed}" changed since it was pinned and is quarantined; an operator must review it (gatehouse tools accept ${server}/${tool})`, { server, tool });
  }

  /** Re-reads the pins when any process changed one; true when the set of quarantined tools changed. */
  refresh(): Promise<boolean> {
    return this.inTurn(() => this.load());
  }

  private async load(): Promise<boolean> {
    const version = await this.store.version();
    if (version === this.seenVersion) return false;
    const quarantinedBefore = this.quarantinedKeys();
    const pins = await this.store.states();
    this.pins = new Map(pins.map((pin) => [keyOf(pin.server, pin.tool), pin]));
    this.seenVersion = version;
    const quarantinedNow = this.quarantinedKeys();
    return quarantinedNow.length !== quarantinedBefore.length || quarantinedNow.some((key, index) => key !== quarantinedBefore[index]);
  }

  private inTurn<T>(body: () => Promise<T>): Promise<T> {
    const run = this.turn.then(body, body);
    this.turn = run.catch(() => undefined);
    return run;
  }

  private quarantinedKeys(): string[] {
    return [...this.pins.values()].filter((pin) => pin.status === 'quarantined').map((pin) => keyOf(pin.server, pin.tool)).sort();
  }
}

function keyOf(server: string, tool: string): string {
  return `${server}/${tool}`;
}

function changedParts(before: unknown, after: Record<string, unknown>): string[] {
  const old = (before ?? {}) as Record<string, unknown>;
  return Object.keys(after).filter((key) => canonicalJson(old[key] ?? null) !== canonicalJson(after[key] ?? null));
}

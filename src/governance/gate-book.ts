import type { Tool } from '@modelcontextprotocol/sdk/types.js';
import type { GatehouseConfig } from '../config/load.js';
import { canonicalJson, sha256Hex } from '../core/binding.js';
import { gateOf, type Gate, type GateDecision, type GateRule } from '../core/gates.js';

/**
 * The gate of every tool, from the config (computed once per tool definition), and the
 * policy version: a digest of every setting that decides gates and approvals, so that a grant
 * given under one policy is not valid under another.
 */
export class GateBook {
  readonly policyVersion: string;
  private readonly rules = new Map<string, GateRule[]>();
  private readonly defaults = new Map<string, { gate: Gate; path: string }>();
  private readonly decided = new WeakMap<Tool, GateDecision>();

  constructor(config: Pick<GatehouseConfig, 'servers' | 'profiles'>) {
    for (const [server, settings] of Object.entries(config.servers)) {
      const rules: GateRule[] = [];
      for (const [pattern, rule] of Object.entries(settings.tools)) {
        if (rule.gate) rules.push({ pattern, gate: rule.gate, path: `servers.${server}.tools.${pattern}` });
      }
      this.rules.set(server, rules);
      if (settings.defaultGate) this.defaults.set(server, { gate: settings.defaultGate, path: `servers.${server}.defaultGate` });
    }
    const policy = {
      servers: Object.fromEntries(Object.entries(config.servers).map(([name, s]) => [name, { defaultGate: s.defaultGate ?? null, tools: s.tools }])),
      approvals: Object.fromEntries(Object.entries(config.profiles).map(([name, p]) => [name, p.approval])),
    };
    this.policyVersion = sha256Hex(canonicalJson(policy)).slice(0, 16);
  }

  gateOf(server: string, tool: Tool): GateDecision {
    let decision = this.decided.get(tool);
    if (!decision) {
      decision = gateOf(tool, this.rules.get(server) ?? [], this.defaults.get(server));
      this.decided.set(tool, decision);
    }
    return decision;
  }
}

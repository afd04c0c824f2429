import type { ToolAnnotations } from '@modelcontextprotocol/sdk/types.js';
import { matchesGlob } from './allowlist.js';

/** G0 read-only, G1 internal write (review), G2 human approval, G3 two-step commit. */
export const GATES = ['G0', 'G1', 'G2', 'G3'] as const;
export type Gate = (typeof GATES)[number];

/** The gate of a tool with no configured rule, before annotations may raise it. */
export const DEFAULT_GATE: Gate = 'G2';

export function gateRank(gate: Gate): number {
  return GATES.indexOf(gate);
}

/** Where a tool's gate came from, for `gatehouse tools` and for the reason of an approval. */
export interface GateDecision {
  gate: Gate;
  source: string;
}

/** A configured gate rule: a tool name or a glob, and where in the config it is. */
export interface GateRule {
  pattern: string;
  gate: Gate;
  /** Config path, e.g. `servers.crm.tools.update_*`. */
  path: string;
}

/**
 * The gate of one tool. A configured rule is the operator's decision and is final (an exact
 * name beats a glob; among globs the longest wins). Without one the tool starts from the
 * server's default (or G2), and MCP annotations, which the server wrote and we do not trust,
 * may only raise it: a destructive tool is at least G2, a tool that writes to the open world
 * is G3. readOnlyHint never lowers anything.
 */
export function gateOf(
  tool: { name: string; annotations?: ToolAnnotations | undefined },
  rules: readonly GateRule[],
  serverDefault?: { gate: Gate; path: string },
): GateDecision {
  const rule = matchingRule(tool.name, rules);
  if (rule) return { gate: rule.gate, source: `config ${rule.path}` };
  let gate = serverDefault?.gate ?? DEFAULT_GATE;
  let source = serverDefault ? `config ${serverDefault.path}` : `default ${DEFAULT_GATE}`;
  const hints = tool.annotations ?? {};
  const raise = (to: Gate, hint: string) => {
    if (gateRank(to) > gateRank(gate)) {
      gate = to;
      source += `, raised to ${to} by annotation ${hint}`;
    }
  };
  // Only explicit hints count: the spec's defaults for absent hints would make every plain tool G3.
  if (hints.readOnlyHint !== true) {
    if (hints.destructiveHint === true) raise('G2', 'destructiveHint');
    if (hints.openWorldHint === true) raise('G3', 'openWorldHint');
  }
  return { gate, source };
}

function matchingRule(name: string, rules: readonly GateRule[]): GateRule | undefined {
  const exact = rules.find((rule) => rule.pattern === name);
  if (exact) return exact;
  return rules
    .filter((rule) => /[*?]/.test(rule.pattern) && matchesGlob(rule.pattern, name))
    .sort((a, b) => b.pattern.length - a.pattern.length)[0];
}

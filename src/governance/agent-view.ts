import type { Tool } from '@modelcontextprotocol/sdk/types.js';
import type { GateDecision } from '../core/gates.js';
import { controlProperties } from './control-arguments.js';

const GATE_NOTES = {
  G2: 'Gatehouse G2: runs only after a human approves it. Pass dry_run: true to preview.',
  G3: 'Gatehouse G3: two-step. The first call returns a plan and a confirm_token and executes nothing; a second call with the same arguments plus confirm: "SEND" and that token executes it once (after a human approval). Pass dry_run: true to preview.',
} as const;

/**
 * A tool as an agent sees it: under its exposed name, and for G2/G3 with the control
 * arguments in its inputSchema and a line on how the gate works, so that a model can use
 * the gate without reading Gatehouse docs.
 */
export function agentView(tool: Tool, exposed: string, gate: GateDecision): Tool {
  if (gate.gate !== 'G2' && gate.gate !== 'G3') return { ...tool, name: exposed };
  const schema = tool.inputSchema as Tool['inputSchema'] & { properties?: Record<string, object> };
  return {
    ...tool,
    name: exposed,
    description: tool.description ? `${tool.description}\n\n${GATE_NOTES[gate.gate]}` : GATE_NOTES[gate.gate],
    inputSchema: { ...schema, properties: { ...(schema.properties ?? {}), ...controlProperties(gate.gate) } },
  };
}

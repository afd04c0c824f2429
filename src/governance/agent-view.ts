import type { Tool } from '@modelcontextprotocol/sdk/types.js';
import type { GateDecision } from '../core/gates.js';
import { controlProperties } from './control-arguments.js';

// Short on purpose: an eager profile lists these on every gated tool, and tokens add up.
const GATE_NOTES = {
  G2: '[Gatehouse G2: runs after a human approves]',
  G3: '[Gatehouse G3: the first call only returns a plan and confirm_token; call again with confirm "SEND" and that token to execute]',
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

import type { Tool } from '@modelcontextprotocol/sdk/types.js';
import { GatehouseError } from '../core/errors.js';

/** What an agent may add to the arguments of a G2/G3 tool to steer the gate. */
export interface ControlArguments {
  dryRun: boolean;
  /** `"SEND"` on the second step of a G3 call. */
  confirm?: 'SEND';
  confirmToken?: string;
  approvalId?: string;
}

export const NO_CONTROL: ControlArguments = { dryRun: false };

/** The control arguments as JSON Schema properties, for the inputSchema an agent sees. */
export function controlProperties(gate: 'G2' | 'G3'): Record<string, object> {
  const properties: Record<string, object> = { dry_run: { type: 'boolean', description: 'preview, execute nothing' } };
  if (gate === 'G2') {
    properties.approval_id = { type: 'string', description: 'id of the approved request' };
  } else {
    properties.confirm = { type: 'string', enum: ['SEND'] };
    properties.confirm_token = { type: 'string' };
  }
  return properties;
}

/**
 * Takes the gateway's control arguments out of a G2/G3 call so that the tool's own schema
 * checks the rest. `dry_run` stays in when the tool declares it itself: such a tool does its
 * own dry run, and the gateway passes the flag on.
 */
export function splitControlArguments(args: Record<string, unknown>, tool: Tool): { arguments: Record<string, unknown>; control: ControlArguments } {
  const { dry_run: dryRun, confirm, confirm_token: confirmToken, approval_id: approvalId, ...rest } = args;
  const bad = (name: string, rule: string) =>
    new GatehouseError('GH_INVALID_ARGUMENTS', `invalid arguments for "${tool.name}": ${name} ${rule}`, { tool: tool.name, problems: `${name} ${rule}` });
  if (dryRun !== undefined && typeof dryRun !== 'boolean') throw bad('dry_run', 'must be a boolean');
  if (confirm !== undefined && confirm !== 'SEND') throw bad('confirm', 'must be exactly "SEND"');
  if (confirmToken !== undefined && typeof confirmToken !== 'string') throw bad('confirm_token', 'must be a string');
  if (approvalId !== undefined && typeof approvalId !== 'string') throw bad('approval_id', 'must be a string');
  const declaresDryRun = declares(tool, 'dry_run');
  return {
    // `dry_run: false` is dropped: it is the default, and the plan hash must not depend on it.
    arguments: declaresDryRun && dryRun === true ? { ...rest, dry_run: true } : rest,
    control: {
      dryRun: dryRun === true,
      ...(confirm !== undefined ? { confirm } : {}),
      ...(confirmToken !== undefined ? { confirmToken } : {}),
      ...(approvalId !== undefined ? { approvalId } : {}),
    },
  };
}

export function declares(tool: Tool, property: string): boolean {
  const properties = (tool.inputSchema as { properties?: Record<string, unknown> }).properties;
  return properties !== undefined && Object.hasOwn(properties, property);
}

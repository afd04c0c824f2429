import type { CallToolResult, Tool } from '@modelcontextprotocol/sdk/types.js';
import { GatehouseError } from '../core/errors.js';
import type { Gateway } from './gateway.js';
import { runCall } from './pipeline/run.js';
import { agentView } from '../governance/agent-view.js';
import type { CallRequest } from './pipeline/types.js';

/** The tools a lazy profile shows instead of its whole catalogue. */
export const META_TOOLS: Tool[] = [
  {
    name: 'search_tools',
    description:
      'Search the tools available to you by keywords (ranked full-text search over names and descriptions). Returns compact entries; use describe_tool for a schema and call_tool to run one.',
    inputSchema: {
      type: 'object',
      properties: {
        query: { type: 'string', minLength: 1, description: 'What you want to do, in a few words' },
        limit: { type: 'integer', minimum: 1, maximum: 50, description: 'Most results to return (default 10)' },
      },
      required: ['query'],
      additionalProperties: false,
    },
    annotations: { readOnlyHint: true, openWorldHint: false },
  },
  {
    name: 'describe_tool',
    description: 'Full definition of one tool (description and inputSchema) by the name search_tools returned.',
    inputSchema: {
      type: 'object',
      properties: { name: { type: 'string', minLength: 1, description: 'Tool name, e.g. "filesystem__read_text_file"' } },
      required: ['name'],
      additionalProperties: false,
    },
    annotations: { readOnlyHint: true, openWorldHint: false },
  },
  {
    name: 'approval_status',
    description:
      'Status of an approval request that a gated call (G2/G3) returned: pending, approved, rejected, expired or consumed, with the reason of a rejection.',
    inputSchema: {
      type: 'object',
      properties: { approval_id: { type: 'string', minLength: 1, description: 'The id the gated call returned, e.g. "apr_…"' } },
      required: ['approval_id'],
      additionalProperties: false,
    },
    annotations: { readOnlyHint: true, openWorldHint: false },
  },
  {
    name: 'call_tool',
    description: 'Run one tool by name with its arguments (checked against its inputSchema).',
    inputSchema: {
      type: 'object',
      properties: {
        name: { type: 'string', minLength: 1, description: 'Tool name from search_tools' },
        arguments: { type: 'object', description: "The tool's arguments", additionalProperties: true },
      },
      required: ['name'],
      additionalProperties: false,
    },
  },
];

const META_NAMES = new Set(META_TOOLS.map((tool) => tool.name));

export function isMetaTool(name: string): boolean {
  return META_NAMES.has(name);
}

/** Runs a meta-tool. search and describe read the schema cache only; call_tool enters the same pipeline as a direct call. */
export async function callMetaTool(gateway: Gateway, request: CallRequest): Promise<CallToolResult> {
  const { caller } = request;
  const args = request.arguments;
  switch (request.name) {
    case 'search_tools': {
      const query = requireString(args, 'query', request.name);
      const limit = optionalInteger(args, 'limit', request.name, { min: 1, max: 50 }) ?? 10;
      const index = await gateway.searchIndex(caller.profile);
      // A server whose circuit is open (or that is marked failed) keeps its tools in the results, marked, so that the agent knows to wait or choose another.
      const results = index.search(query, limit).map((hit) => {
        const unavailable = gateway.unavailability(hit.server);
        return unavailable ? { ...hit, available: false, unavailable: unavailable.reason, until: unavailable.until } : hit;
      });
      const cached = await Promise.all(caller.profile.servers.map((server) => gateway.catalog.cached(server)));
      const unindexed = caller.profile.servers.filter((_, index) => !cached[index]);
      gateway.record({
        type: 'tools.listed',
        agent: caller.agent.name,
        profile: caller.profile.name,
        payload: { via: 'search_tools', session: caller.session, query, results: results.length },
      });
      return json({ results, ...(unindexed.length > 0 ? { unindexed } : {}) });
    }
    case 'describe_tool': {
      const name = requireString(args, 'name', request.name);
      const found = await gateway.catalog.findTool(caller.profile, name, { cachedOnly: true });
      gateway.pins.refuseQuarantined(found.server, found.item.name, name);
      gateway.record({
        type: 'tools.listed',
        agent: caller.agent.name,
        profile: caller.profile.name,
        server: found.server,
        tool: found.item.name,
        payload: { via: 'describe_tool', session: caller.session },
      });
      const unavailable = gateway.unavailability(found.server);
      const view = agentView(found.item, found.exposed, gateway.gates.gateOf(found.server, found.item));
      return json(unavailable ? { ...view, available: false, unavailable: unavailable.reason, until: unavailable.until } : view);
    }
    case 'call_tool': {
      const name = requireString(args, 'name', request.name);
      const inner = args.arguments ?? {};
      if (typeof inner !== 'object' || inner === null || Array.isArray(inner)) {
        throw new GatehouseError('GH_INVALID_ARGUMENTS', 'call_tool: "arguments" must be an object', { tool: name });
      }
      return runCall(gateway.pipeline, { ...request, name, arguments: inner as Record<string, unknown>, via: 'call_tool' });
    }
    case 'approval_status': {
      const id = requireString(args, 'approval_id', request.name);
      const approval = await gateway.desk.get(id);
      if (approval.agent !== caller.agent.name) {
        throw new GatehouseError('GH_APPROVAL_UNKNOWN', `no approval request "${id}" of agent "${caller.agent.name}"`, { approval: id });
      }
      return json({
        approval_id: approval.id,
        status: approval.status,
        tool: approval.exposedName,
        requestedAt: approval.requestedAt,
        expiresAt: approval.expiresAt,
        ...(approval.decidedAt ? { decidedAt: approval.decidedAt, decidedBy: approval.decidedBy, reason: approval.decisionReason ?? null } : {}),
        ...(approval.grantExpiresAt ? { grantExpiresAt: approval.grantExpiresAt } : {}),
        next:
          approval.status === 'approved'
            ? `call ${approval.exposedName} again with the same arguments plus approval_id (or, for a G3 preflight, confirm "SEND" and its confirm_token)`
            : approval.status === 'pending'
              ? 'wait for a human to decide, then ask again'
              : 'this request can no longer be used',
      });
    }
    default:
      throw new GatehouseError('GH_TOOL_NOT_ALLOWED', `unknown meta-tool "${request.name}"`, { tool: request.name });
  }
}

function requireString(args: Record<string, unknown>, key: string, tool: string): string {
  const value = args[key];
  if (typeof value !== 'string' || value.length === 0) {
    throw new GatehouseError('GH_INVALID_ARGUMENTS', `${tool}: "${key}" must be a non-empty string`, { tool, key });
  }
  return value;
}

/** An optional whole number within the bounds the meta-tool's inputSchema states; anything else is refused, not clamped. */
function optionalInteger(args: Record<string, unknown>, key: string, tool: string, { min, max }: { min: number; max: number }): number | undefined {
  const value = args[key];
  if (value === undefined) return undefined;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    throw new GatehouseError('GH_INVALID_ARGUMENTS', `${tool}: "${key}" must be a whole number from ${min} to ${max} (got ${JSON.stringify(value)})`, { tool, key });
  }
  return value;
}

function json(value: unknown): CallToolResult {
  return { content: [{ type: 'text', text: JSON.stringify(value) }], structuredContent: value as Record<string, unknown> };
}

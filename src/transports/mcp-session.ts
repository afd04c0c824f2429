import { Server } from '@modelcontextprotocol/sdk/server/index.js';
import type { RequestHandlerExtra } from '@modelcontextprotocol/sdk/shared/protocol.js';
import { UriTemplate } from '@modelcontextprotocol/sdk/shared/uriTemplate.js';
import {
  CallToolRequestSchema,
  GetPromptRequestSchema,
  GetPromptResultSchema,
  ListPromptsRequestSchema,
  ListResourcesRequestSchema,
  ListResourceTemplatesRequestSchema,
  ListToolsRequestSchema,
  ReadResourceRequestSchema,
  ReadResourceResultSchema,
  type CallToolResult,
  type ServerNotification,
  type ServerRequest,
} from '@modelcontextprotocol/sdk/types.js';
import { GatehouseError } from '../core/errors.js';
import { splitExposedUri } from '../core/naming.js';
import type { Gateway } from '../gateway/gateway.js';
import { callMetaTool, isMetaTool, META_TOOLS } from '../gateway/meta-tools.js';
import { runCall } from '../gateway/pipeline/run.js';
import type { CallerContext, CallRequest } from '../gateway/pipeline/types.js';
import type { Profile } from '../gateway/profiles.js';
import type { AgentIdentity } from '../gateway/tokens.js';
import type { DownstreamCaller } from '../downstream/caller-registry.js';
import { toMcpError, toolCallFailure } from './errors.js';

type Extra = RequestHandlerExtra<ServerRequest, ServerNotification>;

export const GATEHOUSE_INFO = { name: 'gatehouse', version: '0.1.0' };

/**
 * The MCP server one agent session talks to, whatever the transport. It shows the profile's
 * tools (eager) or the meta-tools (lazy), resources and prompts of the profile's servers,
 * and hands every tool call to the call pipeline.
 */
export function createMcpSession(gateway: Gateway, agent: AgentIdentity, profile: Profile, session: string): Server {
  const server = new Server(GATEHOUSE_INFO, {
    capabilities: {
      tools: { listChanged: true },
      resources: { listChanged: true },
      prompts: { listChanged: true },
      logging: {},
    },
    instructions:
      profile.mode === 'lazy'
        ? 'Tools are discovered on demand: search_tools finds them, describe_tool shows a schema, call_tool runs one.'
        : undefined,
  });

  const caller = (extra: Extra): CallerContext => ({ agent, profile, session, downstreamCaller: downstreamCaller(server, session, extra) });

  server.setRequestHandler(ListToolsRequestSchema, async () => {
    if (profile.mode === 'lazy') return { tools: META_TOOLS };
    const tools = await gateway.catalog.tools(profile);
    gateway.record({ type: 'tools.listed', agent: agent.name, profile: profile.name, payload: { via: 'tools/list', session, count: tools.length } });
    return { tools: tools.map(({ item, exposed }) => ({ ...item, name: exposed })) };
  });

  server.setRequestHandler(CallToolRequestSchema, async (request, extra): Promise<CallToolResult> => {
    const { progressToken, ...meta } = request.params._meta ?? {};
    const call: CallRequest = {
      caller: caller(extra),
      name: request.params.name,
      arguments: request.params.arguments ?? {},
      meta: Object.keys(meta).length > 0 ? meta : undefined,
      signal: extra.signal,
      onProgress:
        progressToken === undefined
          ? undefined
          : (progress) => {
              extra.sendNotification({ method: 'notifications/progress', params: { ...progress, progressToken } }).catch(() => undefined);
            },
      via: 'direct',
    };
    try {
      if (profile.mode === 'lazy' && isMetaTool(call.name)) return await callMetaTool(gateway, call);
      return await runCall(gateway.pipeline, call);
    } catch (error) {
      return toolCallFailure(error);
    }
  });

  server.setRequestHandler(ListResourcesRequestSchema, async () => ({
    resources: (await gateway.catalog.resources(profile)).map(({ item, exposed }) => ({ ...item, uri: exposed })),
  }));

  server.setRequestHandler(ListResourceTemplatesRequestSchema, async () => ({
    resourceTemplates: (await gateway.catalog.resourceTemplates(profile)).map(({ item, exposed }) => ({ ...item, uriTemplate: exposed })),
  }));

  server.setRequestHandler(ReadResourceRequestSchema, async (request, extra) => {
    try {
      const target = await resolveResource(gateway, profile, request.params.uri);
      return await gateway.connections
        .get(target.server)!
        .request({ method: 'resources/read', params: { ...request.params, uri: target.uri } }, ReadResourceResultSchema, caller(extra).downstreamCaller, {
          signal: extra.signal,
        });
    } catch (error) {
      throw toMcpError(error);
    }
  });

  server.setRequestHandler(ListPromptsRequestSchema, async () => ({
    prompts: (await gateway.catalog.prompts(profile)).map(({ item, exposed }) => ({ ...item, name: exposed })),
  }));

  server.setRequestHandler(GetPromptRequestSchema, async (request, extra) => {
    try {
      const prompt = await gateway.catalog.findPrompt(profile, request.params.name);
      return await gateway.connections
        .get(prompt.server)!
        .request({ method: 'prompts/get', params: { ...request.params, name: prompt.item.name } }, GetPromptResultSchema, caller(extra).downstreamCaller, {
          signal: extra.signal,
        });
    } catch (error) {
      throw toMcpError(error);
    }
  });

  return server;
}

/** The server-to-client side of one request: answers go back on the same upstream request. */
function downstreamCaller(server: Server, session: string, extra: Extra): DownstreamCaller {
  return {
    session,
    capabilities: server.getClientCapabilities(),
    sendRequest: (request, schema, options) => extra.sendRequest(request as ServerRequest, schema, options),
  };
}

/**
 * A resource URI from an agent: `server+uri` as listed, or the server's own URI (as found in a
 * tool result's resource link) when exactly one visible server lists or templates it.
 */
async function resolveResource(gateway: Gateway, profile: Profile, uri: string): Promise<{ server: string; uri: string }> {
  const split = splitExposedUri(uri);
  const candidates = split && profile.servers.includes(split.server) ? [[split.server, split.uri] as const] : [];
  const plain = (await gateway.catalog.listings(profile)).map(([server]) => [server, uri] as const);
  for (const [server, target] of [...candidates, ...plain]) {
    const listing = await gateway.catalog.listing(server);
    const listed = listing.resources.some((r) => r.uri === target && profile.allows(server, r.name));
    const templated = listing.resourceTemplates.some(
      (t) => profile.allows(server, t.name) && new UriTemplate(t.uriTemplate).match(target) !== null,
    );
    if (listed || templated) return { server, uri: target };
  }
  throw new GatehouseError('GH_RESOURCE_NOT_ALLOWED', `resource "${uri}" is not available in profile "${profile.name}"`, {
    profile: profile.name,
  });
}

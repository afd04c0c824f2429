import { Server } from '@modelcontextprotocol/sdk/server/index.js';
import { Protocol, type RequestHandlerExtra } from '@modelcontextprotocol/sdk/shared/protocol.js';
import type { Transport } from '@modelcontextprotocol/sdk/shared/transport.js';
import { UriTemplate } from '@modelcontextprotocol/sdk/shared/uriTemplate.js';
import {
  CallToolRequestSchema,
  CompleteRequestSchema,
  CompleteResultSchema,
  ErrorCode,
  McpError,
  SetLevelRequestSchema,
  SubscribeRequestSchema,
  UnsubscribeRequestSchema,
  type LoggingLevel,
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
import { agentView } from '../governance/agent-view.js';
import type { CallerContext, CallRequest } from '../gateway/pipeline/types.js';
import type { Profile } from '../gateway/profiles.js';
import type { AgentIdentity } from '../gateway/tokens.js';
import type { DownstreamCaller } from '../downstream/caller-registry.js';
import type { ServerListing } from '../ports/schema-cache.js';
import { toMcpError, toolCallFailure } from './errors.js';
import { sharedJsonSchemaValidator } from '../downstream/json-schema-validator.js';
import { guardRequestParams } from './params-guard.js';
import { dispatchByShape } from '../downstream/dispatch-by-shape.js';
import { answerPlainToolCalls, callCancellation, type ToolCallHandler } from './direct-calls.js';

type Extra = RequestHandlerExtra<ServerRequest, ServerNotification>;

export const GATEHOUSE_INFO = { name: 'gatehouse', version: '0.1.0' };

/**
 * The SDK's Server, its messages dispatched by shape (dispatch-by-shape.ts), each request's params
 * checked before the SDK parses them (params-guard.ts), and plain tool calls answered without the
 * SDK's request machinery (direct-calls.ts).
 */
class SessionServer extends Server {
  /** The tools/call handler (setToolCallHandler). */
  toolCallHandler: ToolCallHandler | undefined;

  override async connect(transport: Transport): Promise<void> {
    await super.connect(transport);
    dispatchByShape(this, transport);
    guardRequestParams(transport);
    if (this.toolCallHandler) answerPlainToolCalls(this, transport, this.toolCallHandler);
  }
}

/**
 * The MCP server one agent session talks to, whatever the transport. It shows the profile's
 * tools (eager) or the meta-tools (lazy), resources and prompts of the profile's servers,
 * and hands every tool call to the call pipeline.
 */
export function createMcpSession(gateway: Gateway, agent: AgentIdentity, profile: Profile, session: string): Server {
  const server = new SessionServer(GATEHOUSE_INFO, {
    capabilities: {
      tools: { listChanged: true },
      resources: { subscribe: true, listChanged: true },
      prompts: { listChanged: true },
      logging: {},
      completions: {},
    },
    instructions:
      profile.mode === 'lazy'
        ? 'Tools are discovered on demand: search_tools finds them, describe_tool shows a schema, call_tool runs one.'
        : undefined,
    jsonSchemaValidator: sharedJsonSchemaValidator,
  });

  // The session's logging/setLevel, applied to the server log lines routed to its calls.
  let logLevel: LoggingLevel | undefined;
  server.setRequestHandler(SetLevelRequestSchema, (request) => {
    logLevel = request.params.level;
    return {};
  });
  const logAllowed = (level: LoggingLevel) => logLevel === undefined || LOG_LEVELS.indexOf(level) >= LOG_LEVELS.indexOf(logLevel);
  const caller = (extra: Extra): CallerContext => ({
    agent,
    profile,
    session,
    downstreamCaller: downstreamCaller(server, session, extra, logAllowed),
  });

  server.setRequestHandler(ListToolsRequestSchema, async () => {
    if (profile.mode === 'lazy') return { tools: META_TOOLS };
    const tools = await gateway.catalog.tools(profile);
    gateway.record({ type: 'tools.listed', agent: agent.name, profile: profile.name, payload: { via: 'tools/list', session, count: tools.length } });
    return { tools: tools.map(({ server, item, exposed }) => agentView(item, exposed, gateway.gates.gateOf(server, item))) };
  });

  setToolCallHandler(server, async (request, extra): Promise<CallToolResult> => {
    const { progressToken, ...meta } = request.params._meta ?? {};
    const call: CallRequest = {
      caller: caller(extra),
      name: request.params.name,
      arguments: request.params.arguments ?? {},
      meta: Object.keys(meta).length > 0 ? meta : undefined,
      cancel: callCancellation(extra),
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

  server.setRequestHandler(SubscribeRequestSchema, async (request) => {
    try {
      const target = await resolveResource(gateway, profile, request.params.uri);
      await gateway.subscriptions.subscribe(session, target.server, target.uri, {
        exposedUri: request.params.uri,
        notify: (uri) => void server.sendResourceUpdated({ uri }).catch(() => undefined),
      });
      return {};
    } catch (error) {
      throw toMcpError(error);
    }
  });

  server.setRequestHandler(UnsubscribeRequestSchema, async (request) => {
    try {
      const target = await resolveResource(gateway, profile, request.params.uri);
      await gateway.subscriptions.unsubscribe(session, target.server, target.uri);
      return {};
    } catch (error) {
      throw toMcpError(error);
    }
  });

  server.setRequestHandler(CompleteRequestSchema, async (request, extra) => {
    try {
      const { ref } = request.params;
      const target =
        ref.type === 'ref/prompt'
          ? await gateway.catalog.findPrompt(profile, ref.name).then((p) => ({ server: p.server, ref: { ...ref, name: p.item.name } }))
          : await findTemplate(gateway, profile, ref.uri).then((t) => ({ server: t.server, ref: { ...ref, uri: t.item.uriTemplate } }));
      return await gateway.connections
        .get(target.server)!
        .request({ method: 'completion/complete', params: { ...request.params, ref: target.ref } }, CompleteResultSchema, caller(extra).downstreamCaller, {
          signal: extra.signal,
        });
    } catch (error) {
      // A server without completion support simply has no suggestions.
      if (error instanceof McpError && error.code === ErrorCode.MethodNotFound) return { completion: { values: [] } };
      throw toMcpError(error);
    }
  });

  return server;
}

const LOG_LEVELS: readonly LoggingLevel[] = ['debug', 'info', 'notice', 'warning', 'error', 'critical', 'alert', 'emergency'];

/** A resource template (or a listed resource) by the URI the profile exposes it under. */
async function findTemplate(gateway: Gateway, profile: Profile, exposed: string): Promise<{ server: string; item: { uriTemplate: string } }> {
  const template = (await gateway.catalog.resourceTemplates(profile)).find((t) => t.exposed === exposed);
  if (template) return template;
  const resource = (await gateway.catalog.resources(profile)).find((r) => r.exposed === exposed);
  if (resource) return { server: resource.server, item: { uriTemplate: resource.item.uri } };
  throw new GatehouseError('GH_RESOURCE_NOT_ALLOWED', `resource "${exposed}" is not available in profile "${profile.name}"`, { profile: profile.name });
}

/** The server-to-client side of one request: requests and log lines go back on the same upstream request. */
function downstreamCaller(server: Server, session: string, extra: Extra, logAllowed: (level: LoggingLevel) => boolean): DownstreamCaller {
  return {
    session,
    capabilities: server.getClientCapabilities(),
    sendRequest: (request, schema, options) => extra.sendRequest(request as ServerRequest, schema, options),
    log: (params) => {
      if (logAllowed(params.level)) extra.sendNotification({ method: 'notifications/message', params }).catch(() => undefined);
    },
  };
}

/**
 * A resource URI from an agent: `server+uri` as listed, or the server's own URI (as found in a
 * tool result's resource link, or as a plain-names profile lists it), routed to the first of the
 * profile's servers that lists or templates it under a name the profile allows.
 */
async function resolveResource(gateway: Gateway, profile: Profile, uri: string): Promise<{ server: string; uri: string }> {
  const listings = await gateway.catalog.listings(profile);
  const split = splitExposedUri(uri);
  const candidates: Array<readonly [string, ServerListing, string]> = [];
  if (split && profile.servers.includes(split.server)) {
    // Not in `listings` when the server cannot start: asking again reports why.
    const listing = listings.find(([server]) => server === split.server)?.[1] ?? (await gateway.catalog.listing(split.server));
    candidates.push([split.server, listing, split.uri]);
  }
  for (const [server, listing] of listings) candidates.push([server, listing, uri]);
  for (const [server, listing, target] of candidates) {
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

/**
 * Registers the tools/call handler with the SDK Protocol's setRequestHandler, which parses the
 * request once, rather than the Server's override, which parses it a second time and every result
 * once more: results here are the downstream's, already parsed by the gateway's SDK Client, or
 * built by the gateway to the schema (and parsed by every SDK client in the tests). ~10 µs a call.
 */
function setToolCallHandler(server: SessionServer, handler: ToolCallHandler): void {
  Protocol.prototype.setRequestHandler.call(server, CallToolRequestSchema, handler);
  server.toolCallHandler = handler;
}

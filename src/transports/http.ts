import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server as HttpServer, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Server } from '@modelcontextprotocol/sdk/server/index.js';
import { GatehouseError, isGatehouseError } from '../core/errors.js';
import type { Gateway } from '../gateway/gateway.js';
import { TokenBook, type AgentIdentity } from '../gateway/tokens.js';
import { createMcpSession } from './mcp-session.js';
import { readJsonBody } from './read-body.js';
import { handleApprovalsApi } from './approvals-api.js';
import { handleServersApi } from './servers-api.js';
import { sendJson, sendJsonRpcError as sendError } from './send-json.js';
import { isInitialize, postHeadersProblem, StreamableHttpSessionTransport } from './streamable-http-transport.js';
import { originCheck, type OriginCheck } from './origin-check.js';
import { handleMetrics } from './metrics-endpoint.js';
import type { PrometheusMetrics } from '../telemetry/prometheus-metrics.js';
import { gatewayGaugeSources } from '../telemetry/gateway-gauges.js';

interface HttpSession {
  id: string;
  agent: AgentIdentity;
  profile: string;
  transport: StreamableHttpSessionTransport;
  server: Server;
  lastSeen: number;
  removeFromGateway: () => void;
}

export interface HttpGateway {
  url: string;
  port: number;
  close(): Promise<void>;
}

export interface HttpOptions {
  host: string;
  port: number;
  /** Served at /metrics when given (the gateway's call metrics, plus gauges read at scrape time). */
  metrics?: PrometheusMetrics | undefined;
}

/**
 * `gatehouse serve`: streamable HTTP at /mcp/<profile>. Each request passes, in order: Host and
 * Origin checks (DNS rebinding), bearer authentication, profile authorization, the body limit;
 * only then does the MCP transport see it. /healthz, /metrics and /api/approvals sit beside it.
 */
export async function serveHttp(gateway: Gateway, options: HttpOptions): Promise<HttpGateway> {
  const http = gateway.config.http;
  const sessions = new Map<string, HttpSession>();
  let boundPort = options.port;
  let origins: OriginCheck = originCheck(options.host, boundPort, http.allowedHosts, http.allowedOrigins);
  options.metrics?.watch(gatewayGaugeSources(gateway, () => sessions.size));

  // Node looks for requests past their timeout every connectionsCheckingInterval (30 s by default).
  const server: HttpServer = createServer({ connectionsCheckingInterval: Math.min(30_000, Math.max(100, http.requestTimeoutMs / 4)) }, (req, res) => {
    handle(req, res).catch((error: unknown) => {
      // A client that goes away mid-body is not the gateway's failure: nothing to answer, no stack.
      if (req.destroyed && (error as NodeJS.ErrnoException).code === 'ECONNRESET') {
        return void gateway.log.debug({ path: req.url, err: (error as Error).message }, 'the client closed the connection before its request was read');
      }
      gateway.log.error({ err: error }, 'http request failed');
      if (!res.headersSent) sendError(res, 500, -32603, 'internal error');
      else res.end();
    });
  });
  // Node closes idle keep-alive sockets after 5 s; a client that reuses one in the same
  // instant gets a reset ("fetch failed"). Idle sockets stay open well beyond any client's
  // pool timeout instead; close() still ends them all.
  server.keepAliveTimeout = 65_000;
  // A request must arrive whole within this (node's default is 5 minutes): a client that sends
  // half a body and stalls gets 408 instead of holding a connection and a handler that long.
  server.requestTimeout = http.requestTimeoutMs;
  server.headersTimeout = Math.min(66_000, http.requestTimeoutMs);

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://gatehouse.invalid');
    if (!origins.hostAllowed(req.headers.host)) {
      return sendError(res, 403, -32000, `forbidden host header "${req.headers.host ?? ''}"`);
    }
    if (!origins.originAllowed(req.headers.origin)) {
      return sendError(res, 403, -32000, `forbidden origin "${req.headers.origin}"`);
    }
    // HEAD too: a load balancer's health check may ask with it (node sends the headers, no body).
    if (url.pathname === '/healthz' && req.method !== 'GET' && req.method !== 'HEAD') {
      res.setHeader('Allow', 'GET, HEAD');
      return sendError(res, 405, -32000, `method ${req.method} not allowed on /healthz; use GET or HEAD`);
    }
    if (url.pathname === '/healthz') {
      const reports = gateway.serverReports();
      return sendJson(res, 200, {
        status: 'ok',
        sessions: sessions.size,
        serversRunning: gateway.runningServers(),
        // Names only: details (stderr) need an operator token (GET /api/servers).
        serversFailed: reports.filter((report) => report.state === 'failed').map((report) => report.server),
        circuitsOpen: reports.filter((report) => report.circuit.state !== 'closed').map((report) => report.server),
      });
    }
    if (url.pathname === '/metrics' && options.metrics) return handleMetrics(gateway, options.metrics, req, res, bearerToken(req), options.host);
    if (url.pathname.startsWith('/api/') && handleServersApi(gateway, req, res, url, bearerToken(req))) return;
    if (url.pathname.startsWith('/api/') && (await handleApprovalsApi(gateway, req, res, url, bearerToken(req)))) return;
    const match = /^\/mcp\/([A-Za-z0-9_-]+)\/?$/.exec(url.pathname);
    if (!match) return sendError(res, 404, -32000, `no route for ${url.pathname}; MCP is served at /mcp/<profile>, the approvals API at /api/approvals${options.metrics ? ', metrics at /metrics' : ''}`);
    const profileName = match[1]!;

    let agent: AgentIdentity;
    try {
      agent = gateway.tokens.authenticate(bearerToken(req));
    } catch (error) {
      res.setHeader('WWW-Authenticate', 'Bearer realm="gatehouse"');
      return sendError(res, 401, -32001, isGatehouseError(error) ? error.message : 'unauthorized');
    }
    const profile = gateway.profiles.get(profileName);
    if (!profile) return sendError(res, 404, -32000, `unknown profile "${profileName}"`);
    try {
      TokenBook.authorize(agent, profileName);
    } catch (error) {
      return sendError(res, 403, -32003, (error as Error).message);
    }

    let body: unknown;
    if (req.method === 'POST') {
      const headersProblem = postHeadersProblem(req);
      if (headersProblem) return sendError(res, headersProblem.status, -32000, headersProblem.message);
      const read = await readJsonBody(req, http.maxBodyBytes);
      if (read.kind === 'too-large') return sendError(res, 413, -32000, `request body exceeds ${http.maxBodyBytes} bytes`);
      if (read.kind === 'invalid') return sendError(res, 400, -32700, `parse error: ${read.message}`);
      if (read.kind === 'empty') return sendError(res, 400, -32700, 'parse error: the body is empty');
      body = read.value;
    }

    const sessionId = req.headers['mcp-session-id'];
    if (typeof sessionId === 'string') {
      const session = sessions.get(sessionId);
      if (!session || session.agent.name !== agent.name || session.profile !== profileName) {
        return sendError(res, 404, -32001, 'session not found');
      }
      session.lastSeen = Date.now();
      return session.transport.handleRequest(req, res, body);
    }
    if (req.method !== 'POST' || !isInitializeMessage(body)) {
      return sendError(res, 400, -32000, 'no mcp-session-id header: the first request of a session must be initialize');
    }
    const id = randomUUID();
    const transport = new StreamableHttpSessionTransport(id, http.keepAliveMs, () => {
      sessions.set(id, session);
      gateway.record({ type: 'session.opened', agent: agent.name, profile: profileName, payload: { session: id, transport: 'http' } });
    });
    const mcp = createMcpSession(gateway, agent, profile, id);
    const session: HttpSession = {
      id,
      agent,
      profile: profileName,
      transport,
      server: mcp,
      lastSeen: Date.now(),
      removeFromGateway: gateway.addSession({ id, profile, server: mcp }),
    };
    transport.onclose = () => {
      if (sessions.delete(id)) {
        gateway.record({ type: 'session.closed', agent: agent.name, profile: profileName, payload: { session: id } });
      }
      session.removeFromGateway();
    };
    await mcp.connect(transport);
    await transport.handleRequest(req, res, body);
  }

  const sweeper = setInterval(() => {
    const cutoff = Date.now() - http.sessionIdleMs;
    for (const session of sessions.values()) if (session.lastSeen < cutoff) session.transport.close().catch(() => undefined);
  }, Math.min(60_000, http.sessionIdleMs));
  sweeper.unref();

  await new Promise<void>((resolve, reject) => {
    server.once('error', (error: NodeJS.ErrnoException) => {
      clearInterval(sweeper);
      const why = error.code === 'EADDRINUSE' ? 'the port is already in use (choose another with --port)' : `${error.message} (check --host or http.host: it must be an address of this machine)`;
      reject(new GatehouseError('GH_LISTEN_FAILED', `cannot listen on ${options.host}:${options.port}: ${why}`, { code: error.code }));
    });
    server.listen(options.port, options.host, () => resolve());
  });
  boundPort = (server.address() as AddressInfo).port;
  origins = originCheck(options.host, boundPort, http.allowedHosts, http.allowedOrigins);
  const hostForUrl = options.host.includes(':') ? `[${options.host}]` : options.host;

  return {
    url: `http://${hostForUrl}:${boundPort}`,
    port: boundPort,
    close: async () => {
      clearInterval(sweeper);
      await Promise.all([...sessions.values()].map((session) => session.transport.close().catch(() => undefined)));
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

function bearerToken(req: IncomingMessage): string | undefined {
  const header = req.headers.authorization;
  const match = header ? /^Bearer\s+(\S+)\s*$/i.exec(header) : null;
  return match?.[1];
}

function isInitializeMessage(body: unknown): boolean {
  return Array.isArray(body) ? body.some(isInitialize) : isInitialize(body);
}

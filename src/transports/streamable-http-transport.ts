import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Transport, TransportSendOptions } from '@modelcontextprotocol/sdk/shared/transport.js';
import { isInitializeRequest, SUPPORTED_PROTOCOL_VERSIONS, type JSONRPCMessage, type RequestId } from '@modelcontextprotocol/sdk/types.js';
import { sendJson, sendJsonRpcError as sendError } from './send-json.js';
import { jsonRpcMessageOf } from '../downstream/json-rpc-message.js';

/** A POST that carried requests, open until every one of them is answered. */
interface Exchange {
  res: ServerResponse;
  /** Requests of this POST not answered yet. */
  open: Set<RequestId>;
  /** Answers held back for one JSON reply (a batch answers once all its requests have). */
  held: JSONRPCMessage[];
  batch: boolean;
  /** SSE headers sent: everything else for this POST goes out as events. */
  streaming: boolean;
  lastWriteAt: number;
}

/**
 * The server side of MCP streamable HTTP for one session, on node's own request and response
 * objects. A POST's answer is plain JSON when its responses are ready before anything else has
 * to be said; it becomes an SSE stream the moment a notification or a server-to-client request
 * for it comes first (progress, log lines, elicitation, sampling), or when it has been silent for
 * `keepAliveMs` (then it gets a comment that often, so that proxies and clients do not time it
 * out). The spec lets the server choose either per POST; the client must accept both.
 *
 * This replaces the SDK's StreamableHTTPServerTransport, which converts every request and
 * response to web streams and always answers with SSE: about a third of the gateway's HTTP time
 * per call. Resumability (Last-Event-ID) is not offered, as the SDK does not without an event store.
 */
export class StreamableHttpSessionTransport implements Transport {
  onmessage?: Transport['onmessage'];
  onclose?: () => void;
  onerror?: (error: Error) => void;

  private readonly exchangeOf = new Map<RequestId, Exchange>();
  private readonly exchanges = new Set<Exchange>();
  private standalone: { res: ServerResponse; lastWriteAt: number } | undefined;
  private initialized = false;
  private closed = false;
  private keepAlive: NodeJS.Timeout | undefined;

  constructor(
    readonly sessionId: string,
    private readonly keepAliveMs: number,
    private readonly onInitialized: () => void,
  ) {}

  async start(): Promise<void> {
    this.keepAlive = setInterval(() => this.keepStreamsAlive(), Math.max(10, this.keepAliveMs / 3));
    this.keepAlive.unref();
  }

  /** Answers one HTTP request of this session; a POST's body has been read and parsed already. */
  async handleRequest(req: IncomingMessage, res: ServerResponse, body: unknown): Promise<void> {
    if (this.closed) return sendError(res, 404, -32001, 'Session not found');
    if (req.method === 'POST') return this.handlePost(req, res, body);
    const versionProblem = protocolVersionProblem(req);
    if (versionProblem) return sendError(res, 400, -32000, versionProblem);
    if (req.method === 'GET') return this.handleGet(req, res);
    if (req.method === 'DELETE') {
      await this.close();
      res.writeHead(200).end();
      return;
    }
    res.setHeader('allow', 'GET, POST, DELETE');
    sendError(res, 405, -32000, `method ${req.method ?? ''} not allowed: streamable HTTP uses POST, GET and DELETE`);
  }

  async send(message: JSONRPCMessage, options?: TransportSendOptions): Promise<void> {
    const isResponse = 'id' in message && ('result' in message || 'error' in message);
    const requestId = isResponse ? (message as { id: RequestId }).id : options?.relatedRequestId;
    if (requestId === undefined) return this.sendUnrelated(message);
    const exchange = this.exchangeOf.get(requestId);
    if (!exchange) throw new Error(`no open HTTP request for request id ${String(requestId)} (the client went away, or it was answered already)`);
    if (!isResponse) {
      this.stream(exchange);
      this.writeEvent(exchange, message);
      return;
    }
    exchange.open.delete(requestId);
    this.exchangeOf.delete(requestId);
    if (exchange.streaming) {
      this.writeEvent(exchange, message);
      if (exchange.open.size === 0) this.finish(exchange);
      return;
    }
    exchange.held.push(message);
    if (exchange.open.size > 0) return;
    this.exchanges.delete(exchange);
    sendJson(exchange.res, 200, exchange.batch ? exchange.held : exchange.held[0], { 'mcp-session-id': this.sessionId });
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    clearInterval(this.keepAlive);
    for (const exchange of this.exchanges) {
      if (exchange.streaming) exchange.res.end();
      else if (!exchange.res.headersSent) sendError(exchange.res, 404, -32001, 'the session was closed before this request was answered');
    }
    this.exchanges.clear();
    this.exchangeOf.clear();
    this.standalone?.res.end();
    this.standalone = undefined;
    this.onclose?.();
  }

  private handlePost(req: IncomingMessage, res: ServerResponse, body: unknown): void {
    const batch = Array.isArray(body);
    const messages: unknown[] = batch ? body : [body];
    if (messages.length === 0) return sendError(res, 400, -32600, 'Invalid Request: an empty batch');
    const bad = messages.findIndex((message) => !isJsonRpcMessage(message));
    if (bad >= 0) return sendError(res, 400, -32600, `Invalid Request: message ${bad} is not a JSON-RPC 2.0 request, notification or response`);
    const valid = messages as JSONRPCMessage[];

    if (valid.some(isInitialize)) {
      if (this.initialized) return sendError(res, 400, -32600, 'Invalid Request: the session is initialized already');
      if (valid.length > 1) return sendError(res, 400, -32600, 'Invalid Request: initialize must be sent alone');
      this.initialized = true;
      this.onInitialized();
    } else {
      const versionProblem = protocolVersionProblem(req);
      if (versionProblem) return sendError(res, 400, -32000, versionProblem);
    }

    const requestIds = valid.filter((message) => 'method' in message && 'id' in message).map((message) => (message as { id: RequestId }).id);
    const extra = { requestInfo: { headers: req.headers } };
    if (requestIds.length === 0) {
      res.writeHead(202).end();
      for (const message of valid) this.onmessage?.(message, extra);
      return;
    }
    const busy = requestIds.find((id) => this.exchangeOf.has(id));
    if (busy !== undefined) return sendError(res, 409, -32600, `Invalid Request: request id ${String(busy)} is still in flight on this session`);

    const exchange: Exchange = { res, open: new Set(requestIds), held: [], batch, streaming: false, lastWriteAt: Date.now() };
    this.exchanges.add(exchange);
    for (const id of requestIds) this.exchangeOf.set(id, exchange);
    res.on('close', () => {
      // The client went away: its answers have nowhere to go (the calls themselves run on).
      if (!this.exchanges.delete(exchange)) return;
      for (const id of exchange.open) this.exchangeOf.delete(id);
    });
    for (const message of valid) this.onmessage?.(message, extra);
  }

  private handleGet(req: IncomingMessage, res: ServerResponse): void {
    if (!req.headers.accept?.includes('text/event-stream')) {
      return sendError(res, 406, -32000, 'Not Acceptable: a GET must accept text/event-stream');
    }
    if (this.standalone) return sendError(res, 409, -32000, 'Conflict: this session has a GET stream open already');
    res.writeHead(200, sseHeaders(this.sessionId));
    res.flushHeaders();
    const standalone = { res, lastWriteAt: Date.now() };
    this.standalone = standalone;
    res.on('close', () => {
      if (this.standalone === standalone) this.standalone = undefined;
    });
  }

  /** A message tied to no request (list_changed, resource updates) goes on the GET stream, if the client opened one. */
  private sendUnrelated(message: JSONRPCMessage): void {
    if ('id' in message && !('method' in message)) throw new Error('a response must answer a request of this session');
    if (!this.standalone) return;
    this.standalone.res.write(sseEvent(message));
    this.standalone.lastWriteAt = Date.now();
  }

  private stream(exchange: Exchange): void {
    if (exchange.streaming) return;
    exchange.streaming = true;
    exchange.res.writeHead(200, sseHeaders(this.sessionId));
    for (const answer of exchange.held) exchange.res.write(sseEvent(answer));
    exchange.held = [];
  }

  private writeEvent(exchange: Exchange, message: JSONRPCMessage): void {
    exchange.res.write(sseEvent(message));
    exchange.lastWriteAt = Date.now();
  }

  private finish(exchange: Exchange): void {
    this.exchanges.delete(exchange);
    exchange.res.end();
  }

  private keepStreamsAlive(): void {
    const quietSince = Date.now() - this.keepAliveMs;
    for (const exchange of this.exchanges) {
      if (exchange.lastWriteAt > quietSince) continue;
      this.stream(exchange);
      exchange.res.write(': keep-alive\n\n');
      exchange.lastWriteAt = Date.now();
    }
    if (this.standalone && this.standalone.lastWriteAt <= quietSince) {
      this.standalone.res.write(': keep-alive\n\n');
      this.standalone.lastWriteAt = Date.now();
    }
  }
}

/**
 * What is wrong with a POST's headers before its body is read: a client MUST accept both JSON
 * and SSE answers, and send JSON.
 */
export function postHeadersProblem(req: IncomingMessage): { status: number; message: string } | undefined {
  const accept = req.headers.accept ?? '';
  if (!accept.includes('application/json') || !accept.includes('text/event-stream')) {
    return { status: 406, message: 'Not Acceptable: the client must accept both application/json and text/event-stream' };
  }
  const mediaType = (req.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
  if (mediaType !== 'application/json') {
    return { status: 415, message: `Unsupported Media Type: Content-Type must be application/json, not "${req.headers['content-type'] ?? ''}"` };
  }
  return undefined;
}

function protocolVersionProblem(req: IncomingMessage): string | undefined {
  const version = req.headers['mcp-protocol-version'];
  if (version === undefined || (typeof version === 'string' && SUPPORTED_PROTOCOL_VERSIONS.includes(version))) return undefined;
  return `Bad Request: unsupported MCP-Protocol-Version "${String(version)}" (supported: ${SUPPORTED_PROTOCOL_VERSIONS.join(', ')})`;
}

/** An initialize request. The method is looked at first: parsing every POST as one cost as much as checking that it is JSON-RPC. */
export function isInitialize(message: unknown): boolean {
  return (message as { method?: unknown } | null)?.method === 'initialize' && isInitializeRequest(message);
}

/**
 * A message by the SDK's own schema: anything it would not recognise (an id that is not a
 * string or an integer, params that are not an object, an unknown key) is dropped by the SDK as
 * "unknown message type", which would leave the POST unanswered until the client gave up.
 */
function isJsonRpcMessage(value: unknown): boolean {
  return jsonRpcMessageOf(value) !== undefined;
}

function sseHeaders(sessionId: string): Record<string, string> {
  return {
    'content-type': 'text/event-stream',
    'cache-control': 'no-cache, no-transform',
    connection: 'keep-alive',
    'mcp-session-id': sessionId,
  };
}

function sseEvent(message: JSONRPCMessage): string {
  return `event: message\ndata: ${JSON.stringify(message)}\n\n`;
}

import { Agent, request } from 'node:http';
import { LATEST_PROTOCOL_VERSION } from '@modelcontextprotocol/sdk/types.js';

/**
 * The least a streamable HTTP MCP client can do: initialize, then POST tools/call and read the
 * answer (JSON, or the matching event of an SSE stream). Used as the load generator of the
 * concurrency bench and the raw client of the cold-start bench, where the SDK client's own CPU (about 1 ms per call here) would otherwise
 * bound what two shared cores can show of the gateway. It validates nothing beyond the
 * JSON-RPC envelope; correctness is what the test suite and the conformance run check.
 */
export class RawHttpMcpClient {
  private nextId = 1;
  private sessionId: string | undefined;

  private constructor(
    private readonly url: URL,
    private readonly headers: Record<string, string>,
    private readonly agent: Agent,
  ) {}

  static async connect(url: string, headers: Record<string, string>, agent: Agent): Promise<RawHttpMcpClient> {
    const client = new RawHttpMcpClient(new URL(url), headers, agent);
    await client.request('initialize', {
      protocolVersion: LATEST_PROTOCOL_VERSION,
      capabilities: {},
      clientInfo: { name: 'gatehouse-bench-raw', version: '0.1.0' },
    });
    await client.post({ jsonrpc: '2.0', method: 'notifications/initialized' });
    return client;
  }

  /** Calls a tool; resolves to its result, rejects with the JSON-RPC error or an HTTP failure. */
  async callTool(name: string, args: Record<string, unknown>): Promise<{ isError?: boolean; content?: unknown }> {
    return (await this.request('tools/call', { name, arguments: args })) as { isError?: boolean; content?: unknown };
  }

  /** Ends the session (DELETE). */
  async close(): Promise<void> {
    await this.send('DELETE', undefined).catch(() => undefined);
  }

  /** One JSON-RPC request; resolves to its result, rejects with its error or an HTTP failure. */
  async request(method: string, params: unknown): Promise<unknown> {
    const id = this.nextId++;
    const answer = await this.post({ jsonrpc: '2.0', id, method, params });
    const response = findResponse(answer, id);
    if (!response) throw new Error(`no response with id ${id} in the answer to ${method}`);
    if (response.error) throw new Error(`${method}: ${response.error.message} (${response.error.code})`);
    return response.result;
  }

  private post(message: unknown): Promise<{ contentType: string; text: string }> {
    return this.send('POST', JSON.stringify(message));
  }

  private send(method: string, body: string | undefined): Promise<{ contentType: string; text: string }> {
    return new Promise((resolve, reject) => {
      const headers: Record<string, string | number> = {
        ...this.headers,
        accept: 'application/json, text/event-stream',
        'mcp-protocol-version': LATEST_PROTOCOL_VERSION,
      };
      if (body !== undefined) {
        headers['content-type'] = 'application/json';
        headers['content-length'] = Buffer.byteLength(body);
      }
      if (this.sessionId) headers['mcp-session-id'] = this.sessionId;
      const req = request(this.url, { method, headers, agent: this.agent }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          const status = res.statusCode ?? 0;
          if (status >= 400) return reject(new Error(`HTTP ${status}: ${text.slice(0, 200)}`));
          const session = res.headers['mcp-session-id'];
          if (typeof session === 'string') this.sessionId = session;
          resolve({ contentType: String(res.headers['content-type'] ?? ''), text });
        });
        res.on('error', reject);
      });
      req.on('error', reject);
      req.end(body);
    });
  }
}

interface JsonRpcResponse {
  id?: number;
  result?: unknown;
  error?: { code: number; message: string };
}

/** The response with `id` in a JSON answer (one message or a batch) or in an SSE stream's `data:` lines. */
function findResponse(answer: { contentType: string; text: string }, id: number): JsonRpcResponse | undefined {
  const messages: unknown[] = answer.contentType.includes('text/event-stream')
    ? answer.text
        .split('\n')
        .filter((line) => line.startsWith('data:'))
        .map((line) => JSON.parse(line.slice(5)) as unknown)
    : [JSON.parse(answer.text) as unknown].flat();
  return messages.find((message): message is JsonRpcResponse => (message as JsonRpcResponse).id === id);
}

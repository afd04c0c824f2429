import type { ServerResponse } from 'node:http';

/** A complete JSON response in one write, with its length (and any `headers` besides). */
export function sendJson(res: ServerResponse, status: number, value: unknown, headers: Record<string, string> = {}): void {
  // Encoded once: Buffer.byteLength and then end(text) would encode the text twice, which shows
  // on a 500 KB tools/list (the real servers' descriptions make it a two-byte string).
  const body = Buffer.from(JSON.stringify(value));
  res.writeHead(status, { ...headers, 'content-type': 'application/json', 'content-length': body.length });
  res.end(body);
}

/** An HTTP error in the JSON-RPC error shape MCP clients expect (no request id). */
export function sendJsonRpcError(res: ServerResponse, status: number, code: number, message: string): void {
  sendJson(res, status, { jsonrpc: '2.0', error: { code, message }, id: null });
}

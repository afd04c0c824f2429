import type { Readable, Writable } from 'node:stream';
import { serializeMessage } from '@modelcontextprotocol/sdk/shared/stdio.js';
import type { Transport } from '@modelcontextprotocol/sdk/shared/transport.js';
import { ErrorCode, type JSONRPCMessage, type RequestId } from '@modelcontextprotocol/sdk/types.js';
import { isRequestId, JsonLineSplitter, requestIdOf, type OversizedLine } from '../downstream/json-lines.js';
import { jsonRpcMessageOf } from '../downstream/json-rpc-message.js';

/**
 * `gatehouse connect`'s end of stdio: one JSON-RPC message per line on stdin and stdout. Unlike
 * the SDK's StdioServerTransport, which reports a bad line only to an `onerror` nobody reads
 * (so a client waits for an answer that never comes) and ends the session past 10 MB buffered,
 * every line that is not a message gets JSON-RPC's answer:
 * - not JSON: -32700 (parse error), id null;
 * - JSON but not a message, or a batch (MCP 2025-06-18 has none): -32600 (invalid request), with
 *   the request's id when it has one; a malformed response or notification gets no answer;
 * - longer than `maxMessageBytes`: skipped without being held in memory, and -32600 when its first
 *   and last bytes show a request and its id; the session goes on.
 */
export class StdioSessionTransport implements Transport {
  onclose?: () => void;
  onerror?: (error: Error) => void;
  onmessage?: (message: JSONRPCMessage) => void;
  private readonly lines: JsonLineSplitter;
  private closed = false;

  constructor(
    private readonly maxMessageBytes: number,
    private readonly input: Readable = process.stdin,
    private readonly output: Writable = process.stdout,
  ) {
    this.lines = new JsonLineSplitter(
      maxMessageBytes,
      (line) => this.receiveLine(line),
      (line) => this.receiveOversized(line),
    );
  }

  private readonly onData = (chunk: Buffer) => this.lines.push(chunk);
  private readonly onError = (error: Error) => this.onerror?.(error);
  // The client went away: it closed our stdin, or stopped reading our stdout (EPIPE, which
  // unhandled would end the process with a stack trace in the middle of its calls).
  private readonly onEnd = () => void this.close();
  private readonly onOutputError = (error: Error) => {
    this.onerror?.(new Error(`the client stopped reading: ${error.message}`));
    void this.close();
  };

  async start(): Promise<void> {
    this.input.on('data', this.onData);
    this.input.on('error', this.onError);
    this.input.once('end', this.onEnd);
    // Kept after close: a write already under way may still fail.
    this.output.on('error', this.onOutputError);
  }

  send(message: JSONRPCMessage): Promise<void> {
    if (this.closed) return Promise.reject(new Error('the stdio session is closed'));
    return new Promise((resolve, reject) => {
      if (this.output.write(serializeMessage(message))) return resolve();
      const settle = (error?: Error) => {
        this.output.off('drain', settle);
        this.output.off('error', settle);
        if (error) reject(error);
        else resolve();
      };
      this.output.once('drain', settle);
      this.output.once('error', settle);
    });
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.input.off('data', this.onData);
    this.input.off('error', this.onError);
    this.input.off('end', this.onEnd);
    this.input.pause();
    this.onclose?.();
  }

  private receiveLine(line: string): void {
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch (error) {
      return this.refuse(null, ErrorCode.ParseError, `parse error: ${(error as Error).message}`, line);
    }
    const message = jsonRpcMessageOf(value);
    if (message) return this.onmessage?.(message);
    if (Array.isArray(value)) return this.refuse(null, ErrorCode.InvalidRequest, 'Invalid Request: a batch; over stdio, send one message per line', line);
    const fields = value !== null && typeof value === 'object' ? (value as Record<string, unknown>) : {};
    // Nothing waits for an answer to a response or a notification: report it, answer nothing.
    if ('result' in fields || 'error' in fields || ('method' in fields && !('id' in fields))) {
      return this.onerror?.(new Error(`a line that is not a valid JSON-RPC 2.0 response or notification was dropped: ${line.slice(0, 200)}`));
    }
    const id = isRequestId(fields.id) ? fields.id : null;
    this.refuse(id, ErrorCode.InvalidRequest, 'Invalid Request: not a JSON-RPC 2.0 request, notification or response', line);
  }

  private receiveOversized(line: OversizedLine): void {
    const message = `Invalid Request: the message has ${line.bytes} bytes, over the limit of ${this.maxMessageBytes} (http.maxBodyBytes); it was dropped`;
    const id = requestIdOf(line.head, line.tail);
    // Without a request's id there is no one to answer (a response's id is the gateway's numbering, not the client's).
    if (id === undefined) return this.onerror?.(new Error(`${message}: ${line.head.slice(0, 200)}`));
    this.refuse(id, ErrorCode.InvalidRequest, message, line.head);
  }

  private refuse(id: RequestId | null, code: number, message: string, line: string): void {
    this.onerror?.(new Error(`${message}: ${line.slice(0, 200)}`));
    this.send({ jsonrpc: '2.0', id, error: { code, message } } as JSONRPCMessage).catch((error: unknown) => this.onerror?.(error as Error));
  }
}

import type { Transport } from '@modelcontextprotocol/sdk/shared/transport.js';
import { CallToolResultSchema, ErrorCode, McpError, type JSONRPCMessage, type Request, type Result } from '@modelcontextprotocol/sdk/types.js';
import type { z } from 'zod';
import type { Cancellation } from '../core/cancellation.js';

interface Waiting {
  settle: (message: JSONRPCMessage) => void;
  fail: (error: Error) => void;
}

/**
 * Requests sent straight on a downstream transport, their responses taken off it before the
 * SDK's Protocol sees them: for a tools/call that asks for no progress, what `Client.request`
 * does, without its per-request machinery (response, progress and timeout maps, an abort
 * listener, the response's type-guard parse): about 30 µs of a call's samples in a profile of
 * `gatehouse connect`, about 10 µs a call measured (interleaved runs with and without). The
 * result is parsed with the caller's schema, as the SDK parses it (a tools/call result of plain
 * text is told by its keys instead: isPlainTextResult); an error response, a timeout
 * (`notifications/cancelled` sent, McpError RequestTimeout with `{ timeout }`), an abort (cancelled,
 * rejected with the cancellation's reason) and a closed connection (McpError ConnectionClosed)
 * end it as they end the SDK's. Ids are strings (`gh-1`, …), so they never meet the SDK's numbers.
 */
export class DirectRequests {
  private readonly waiting = new Map<string, Waiting>();
  private nextId = 0;

  /** Wraps the transport's `onmessage`: call after the Protocol's `connect()`. */
  constructor(private readonly transport: Transport) {
    const deliver = transport.onmessage;
    transport.onmessage = (message, extra) => {
      if (!('method' in message) && 'id' in message && typeof message.id === 'string') {
        const waiting = this.waiting.get(message.id);
        if (waiting) return waiting.settle(message);
      }
      deliver?.(message, extra);
    };
  }

  request<S extends z.ZodType<Result>>(request: Request, schema: S, options: { timeout: number; cancel?: Cancellation | undefined }): Promise<z.output<S>> {
    const id = `gh-${++this.nextId}`;
    return new Promise((resolve, reject) => {
      const { cancel: cancellation, timeout } = options;
      if (cancellation?.aborted) throw cancellation.reason;
      const end = (): void => {
        this.waiting.delete(id);
        clearTimeout(timer);
        stopListening?.();
      };
      const cancel = (reason: unknown): void => {
        end();
        this.transport.send({ jsonrpc: '2.0', method: 'notifications/cancelled', params: { requestId: id, reason: String(reason) } }).catch(() => undefined);
        reject(reason instanceof McpError ? reason : new McpError(ErrorCode.RequestTimeout, String(reason)));
      };
      const timer = setTimeout(() => cancel(new McpError(ErrorCode.RequestTimeout, 'Request timed out', { timeout })), timeout);
      const stopListening = cancellation?.onAbort((reason) => cancel(reason));
      this.waiting.set(id, {
        settle: (message) => {
          end();
          if ('error' in message) return reject(new McpError(message.error.code, message.error.message, message.error.data));
          const result = (message as { result: unknown }).result;
          if ((schema as z.ZodType) === CallToolResultSchema && isPlainTextResult(result)) return resolve(result as z.output<S>);
          const parsed = schema.safeParse(result);
          if (parsed.success) resolve(parsed.data);
          else reject(parsed.error);
        },
        fail: (error) => {
          end();
          reject(error);
        },
      });
      this.transport.send({ jsonrpc: '2.0', id, ...request } as JSONRPCMessage).catch((error: unknown) => {
        end();
        reject(error);
      });
    });
  }

  /** The connection closed: every request still waiting fails as the SDK's do. */
  closed(): void {
    const error = new McpError(ErrorCode.ConnectionClosed, 'Connection closed');
    for (const waiting of [...this.waiting.values()]) waiting.fail(error);
  }
}

/**
 * A tools/call result as most tools answer: text blocks with nothing beside `type` and `text`, and
 * `isError` or nothing else. CallToolResultSchema's parse of one returns an equal object, so it is
 * taken as it is; telling it by its keys costs a fraction of the parse (~4 µs of a call's CPU).
 * Anything else is parsed.
 */
export function isPlainTextResult(result: unknown): boolean {
  if (typeof result !== 'object' || result === null) return false;
  for (const key in result) if (key !== 'content' && key !== 'isError') return false;
  const { content, isError } = result as { content?: unknown; isError?: unknown };
  if (!Array.isArray(content) || (isError !== undefined && typeof isError !== 'boolean')) return false;
  for (const block of content as unknown[]) {
    if (typeof block !== 'object' || block === null || (block as { type?: unknown }).type !== 'text' || typeof (block as { text?: unknown }).text !== 'string') return false;
    for (const key in block) if (key !== 'type' && key !== 'text') return false;
  }
  return true;
}

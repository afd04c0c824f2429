import { ErrorCode, CreateMessageResultSchema, ElicitResultSchema, ListRootsResultSchema } from '@modelcontextprotocol/sdk/types.js';
import type { ClientCapabilities, LoggingMessageNotification, Request, Result } from '@modelcontextprotocol/sdk/types.js';
import type { z } from 'zod';
import { protocolError } from './protocol-error.js';

/** The upstream side of a call in flight: who asked, and how to ask them something back. */
export interface DownstreamCaller {
  /** Upstream session key; two calls of one session are one caller for routing. */
  session: string;
  capabilities: ClientCapabilities | undefined;
  sendRequest<S extends z.ZodType<Result>>(request: Request, schema: S, options?: { signal?: AbortSignal; timeout?: number }): Promise<z.output<S>>;
  /** Delivers a log message from the server to this caller (filtered by the session's log level). */
  log(params: LoggingMessageNotification['params']): void;
}

type Kind = 'elicitation' | 'sampling' | 'roots';

const RESULT_SCHEMAS = {
  elicitation: ElicitResultSchema,
  sampling: CreateMessageResultSchema,
  roots: ListRootsResultSchema,
} as const;

/**
 * Tracks which upstream callers have a call in flight on one downstream server, so that a
 * server-to-client request (elicitation, sampling, roots) reaches the agent whose call caused
 * it. Over a shared connection the protocol does not say which call a request belongs to:
 * with exactly one session in flight the answer is certain; with several it is refused
 * rather than guessed, because a wrong guess would show one agent's prompt to another.
 */
export class CallerRegistry {
  private readonly inflight = new Map<number, DownstreamCaller>();
  private nextId = 0;

  get size(): number {
    return this.inflight.size;
  }

  enter(caller: DownstreamCaller): () => void {
    const id = this.nextId++;
    this.inflight.set(id, caller);
    return () => this.inflight.delete(id);
  }

  /**
   * The caller of the newest call in flight when every call in flight belongs to one session;
   * undefined when there is none or several sessions (a guess could reach the wrong agent).
   */
  soleCaller(): DownstreamCaller | undefined {
    const sessions = this.sessions();
    return sessions.size === 1 ? [...sessions.values()][0] : undefined;
  }

  async forward(server: string, kind: Kind, request: Request, signal: AbortSignal): Promise<Result> {
    const sessions = this.sessions();
    if (sessions.size !== 1) {
      throw protocolError(
        ErrorCode.InvalidRequest,
        sessions.size === 0
          ? `GH_ROUTING_AMBIGUOUS: ${kind} request from "${server}" arrived outside any call`
          : `GH_ROUTING_AMBIGUOUS: ${kind} request from "${server}" cannot be tied to one caller: ${sessions.size} sessions have calls in flight on this shared server`,
      );
    }
    const caller = [...sessions.values()][0]!;
    if (!caller.capabilities?.[kind]) {
      throw protocolError(ErrorCode.MethodNotFound, `GH_CLIENT_CAPABILITY_MISSING: the agent's client does not support ${kind}`);
    }
    return caller.sendRequest(request, RESULT_SCHEMAS[kind], { signal });
  }

  private sessions(): Map<string, DownstreamCaller> {
    const sessions = new Map<string, DownstreamCaller>();
    for (const caller of this.inflight.values()) sessions.set(caller.session, caller);
    return sessions;
  }
}

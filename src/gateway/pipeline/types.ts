import type { Progress, Tool } from '@modelcontextprotocol/sdk/types.js';
import type { Cancellation } from '../../core/cancellation.js';
import type { DownstreamCaller } from '../../downstream/caller-registry.js';
import type { AgentIdentity } from '../tokens.js';
import type { Profile } from '../profiles.js';

/** Who is calling: established by the transport, checked by the authorize stage. */
export interface CallerContext {
  agent: AgentIdentity;
  profile: Profile;
  /** Upstream session id (HTTP) or a per-process id (stdio). */
  session: string;
  /** How to reach the caller's client for server-to-client requests during the call. */
  downstreamCaller: DownstreamCaller;
}

/** A tools/call as it enters the pipeline. */
export interface CallRequest {
  caller: CallerContext;
  /** The exposed name, `server__tool`. */
  name: string;
  arguments: Record<string, unknown>;
  /** The client's `_meta`, minus the progress token (which the gateway replaces with its own). */
  meta: Record<string, unknown> | undefined;
  /** The client's cancellation of the call (its `signal` is made only when something asks for it). */
  cancel: Cancellation | undefined;
  /** Set when the client asked for progress; receives the downstream server's progress. */
  onProgress: ((progress: Progress) => void) | undefined;
  /**
   * `direct` for an eager tools/call, `call_tool` when it came through the lazy meta-tool,
   * `approved` when the gateway runs an approved call of a `queue` profile itself.
   */
  via: 'direct' | 'call_tool' | 'approved';
}

export interface ResolvedCall extends CallRequest {
  server: string;
  tool: Tool;
}

/** What forward needs: the resolved call with the arguments it is to run with. */
export type DecidedCall = ResolvedCall;

import { TokenBook } from '../tokens.js';
import type { CallRequest } from './types.js';

/**
 * Stage 1: the transport established who the agent is; this stage checks that the agent may
 * use the profile the call arrived on. Cheap, and it keeps the rule in one place.
 */
export function authorize(request: CallRequest): CallRequest {
  TokenBook.authorize(request.caller.agent, request.caller.profile.name);
  return request;
}

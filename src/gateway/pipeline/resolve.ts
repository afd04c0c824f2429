import type { Catalog } from '../catalog.js';
import type { CallRequest, ResolvedCall } from './types.js';

/** Stage 2: the exposed name becomes a tool of one server, if and only if the profile allows it. */
export async function resolve(request: CallRequest, catalog: Catalog): Promise<ResolvedCall> {
  const found = await catalog.findTool(request.caller.profile, request.name);
  return { ...request, server: found.server, tool: found.item };
}

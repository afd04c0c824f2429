import type { Catalog, CatalogTool } from '../catalog.js';
import type { CallRequest, ResolvedCall } from './types.js';

/** Stage 2: the exposed name becomes a tool of one server, if and only if the profile allows it. */
export async function resolve(request: CallRequest, catalog: Catalog): Promise<ResolvedCall> {
  return resolvedAs(request, await catalog.findTool(request.caller.profile, request.name));
}

/** resolve's answer when the catalog has it in memory (the commonest case), without an await; undefined otherwise. */
export function resolveKnown(request: CallRequest, catalog: Catalog): ResolvedCall | undefined {
  const found = catalog.knownTool(request.caller.profile, request.name);
  return found && resolvedAs(request, found);
}

function resolvedAs(request: CallRequest, found: CatalogTool): ResolvedCall {
  return { ...request, server: found.server, tool: found.item };
}

import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { z } from 'zod';
import type { ServerListing } from '../ports/schema-cache.js';
import { checkToolDefinitions } from './tool-definitions.js';

/** tools/list read leniently, so that one malformed tool is reported rather than failing the list. */
const LenientToolPage = z.looseObject({ tools: z.array(z.unknown()), nextCursor: z.string().optional() });

/** Reads every page of tools, resources, resource templates and prompts the server offers. */
export async function fetchListing(client: Client, timeoutMs: number): Promise<ServerListing> {
  const capabilities = client.getServerCapabilities() ?? {};
  const options = { timeout: timeoutMs };
  const none = async () => [];
  const [rawTools, resources, resourceTemplates, prompts] = await Promise.all([
    capabilities.tools
      ? allPages((cursor) => client.request({ method: 'tools/list', params: cursor ? { cursor } : {} }, LenientToolPage, options), (page) => page.tools)
      : none(),
    capabilities.resources ? allPages((cursor) => client.listResources({ cursor }, options), (page) => page.resources) : none(),
    capabilities.resources
      ? allPages((cursor) => client.listResourceTemplates({ cursor }, options), (page) => page.resourceTemplates)
      : none(),
    capabilities.prompts ? allPages((cursor) => client.listPrompts({ cursor }, options), (page) => page.prompts) : none(),
  ]);
  const { tools, rejected } = checkToolDefinitions(rawTools);
  return {
    tools,
    resources,
    resourceTemplates,
    prompts,
    listedAt: new Date().toISOString(),
    source: 'live',
    ...(rejected.length > 0 ? { rejected } : {}),
  };
}

async function allPages<P extends { nextCursor?: string | undefined }, T>(
  fetchPage: (cursor: string | undefined) => Promise<P>,
  items: (page: P) => T[],
): Promise<T[]> {
  const all: T[] = [];
  let cursor: string | undefined;
  do {
    const page = await fetchPage(cursor);
    all.push(...items(page));
    cursor = page.nextCursor;
  } while (cursor);
  return all;
}

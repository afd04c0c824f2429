import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import type { ServerListing } from '../ports/schema-cache.js';

/** Reads every page of tools, resources, resource templates and prompts the server offers. */
export async function fetchListing(client: Client, timeoutMs: number): Promise<ServerListing> {
  const capabilities = client.getServerCapabilities() ?? {};
  const options = { timeout: timeoutMs };
  const none = async () => [];
  const [tools, resources, resourceTemplates, prompts] = await Promise.all([
    capabilities.tools ? allPages((cursor) => client.listTools({ cursor }, options), (page) => page.tools) : none(),
    capabilities.resources ? allPages((cursor) => client.listResources({ cursor }, options), (page) => page.resources) : none(),
    capabilities.resources
      ? allPages((cursor) => client.listResourceTemplates({ cursor }, options), (page) => page.resourceTemplates)
      : none(),
    capabilities.prompts ? allPages((cursor) => client.listPrompts({ cursor }, options), (page) => page.prompts) : none(),
  ]);
  return { tools, resources, resourceTemplates, prompts, listedAt: new Date().toISOString(), source: 'live' };
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

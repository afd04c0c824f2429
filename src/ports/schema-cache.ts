import type { Prompt, Resource, ResourceTemplate, Tool } from '@modelcontextprotocol/sdk/types.js';

/** What a server listed the last time it ran (or what a snapshot seeded). */
export interface ServerListing {
  tools: Tool[];
  resources: Resource[];
  resourceTemplates: ResourceTemplate[];
  prompts: Prompt[];
  /** ISO-8601 time of the listing. */
  listedAt: string;
  /** `live` when read from a running server, `snapshot` when seeded from a file. */
  source: 'live' | 'snapshot';
  /** Tools the server listed that are not valid MCP definitions, left out of `tools`. */
  rejected?: Array<{ name: string; problem: string }>;
}

/** Persisted schema cache: lets tools/list and lazy search answer with no process running. */
export interface SchemaCache {
  get(server: string): Promise<ServerListing | undefined>;
  put(server: string, listing: ServerListing): Promise<void>;
  servers(): Promise<string[]>;
}

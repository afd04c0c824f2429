import type { Prompt, Resource, ResourceTemplate, Tool } from '@modelcontextprotocol/sdk/types.js';
import { GatehouseError } from '../core/errors.js';
import { assignNames, exposedName, exposedUri, splitExposedName } from '../core/naming.js';
import type { SchemaCache, ServerListing } from '../ports/schema-cache.js';
import type { ServerConnection } from '../downstream/server-connection.js';
import type { Profile } from './profiles.js';

/** One item of one server as a profile sees it, under the name agents use. */
export interface Exposed<T> {
  server: string;
  item: T;
  exposed: string;
}

export type CatalogTool = Exposed<Tool>;

interface ListOptions {
  /** Read the schema cache only; never start a server (lazy search and describe). */
  cachedOnly?: boolean;
}

interface ProfileView {
  version: number;
  tools: CatalogTool[];
  toolsByName: Map<string, CatalogTool>;
}

/**
 * What each profile can see. Listings come from the schema cache when present, so that
 * listing needs no running process; otherwise the server is started (first use) and its
 * listing cached. Listings are kept in memory once read or stored (the store is asked only
 * about a server it has not seen yet), and views per profile are memoized until a listing changes.
 */
export class Catalog {
  private version = 0;
  private readonly views = new Map<string, ProfileView>();
  private readonly remembered = new Map<string, ServerListing>();

  constructor(
    private readonly connections: ReadonlyMap<string, ServerConnection>,
    private readonly cache: SchemaCache,
    private readonly warn: (message: string, data: Record<string, unknown>) => void,
    /** Tools to leave out of every view (quarantined ones); calls to them are refused by the pipeline. */
    private readonly hidden: (server: string, tool: Tool) => boolean = () => false,
  ) {}

  /** Changes whenever a listing changes, so that derived views (e.g. search indexes) know to rebuild. */
  get listingVersion(): number {
    return this.version;
  }

  /** A listing arrived or changed: every memoized view is stale. */
  invalidate(): void {
    this.version += 1;
    this.views.clear();
  }

  /** The cached listing of a server (from memory, else the schema cache), without starting it. */
  async cached(server: string): Promise<ServerListing | undefined> {
    const known = this.remembered.get(server);
    if (known) return known;
    const stored = await this.cache.get(server);
    // A listing stored meanwhile (remember) is newer than the one read.
    if (stored && !this.remembered.has(server)) this.remembered.set(server, stored);
    return this.remembered.get(server);
  }

  /** Stores a listing in the schema cache; memory first, so that readers see it before the write completes. */
  async store(server: string, listing: ServerListing): Promise<void> {
    this.remembered.set(server, listing);
    this.invalidate();
    await this.cache.put(server, listing);
  }

  /** The server's listing, starting it when nothing is cached. */
  async listing(server: string): Promise<ServerListing> {
    const cached = await this.cached(server);
    if (cached) return cached;
    const connection = this.connections.get(server);
    if (!connection) throw new GatehouseError('GH_DOWNSTREAM_UNAVAILABLE', `unknown server "${server}"`, { server });
    await connection.connect();
    const listed = await this.cached(server);
    if (!listed) throw new GatehouseError('GH_DOWNSTREAM_UNAVAILABLE', `server "${server}" started but gave no listing`, { server });
    return listed;
  }

  /**
   * Listings of every server the profile can touch. A server that cannot be started is left
   * out (and reported) rather than failing the whole list.
   */
  async listings(profile: Profile, options: ListOptions = {}): Promise<Array<[string, ServerListing]>> {
    const results = await Promise.all(
      profile.servers.map(async (server): Promise<[string, ServerListing] | undefined> => {
        if (options.cachedOnly) {
          const cached = await this.cached(server);
          return cached ? [server, cached] : undefined;
        }
        try {
          return [server, await this.listing(server)];
        } catch (error) {
          this.warn('listing skipped a server that could not be started', { server, error: (error as Error).message });
          return undefined;
        }
      }),
    );
    return results.filter((entry): entry is [string, ServerListing] => entry !== undefined);
  }

  async tools(profile: Profile, options: ListOptions = {}): Promise<CatalogTool[]> {
    if (!options.cachedOnly) {
      const memo = this.currentView(profile);
      if (memo) return memo.tools;
    }
    // The version the listings are read at: one stored while they are read makes this view stale at once.
    const version = this.version;
    const listings = await this.listings(profile, options);
    const tools = expose(profile, listings, (listing) => listing.tools).filter((tool) => !this.hidden(tool.server, tool.item));
    if (!options.cachedOnly && listings.length === profile.servers.length) {
      this.views.set(profile.name, { version, tools, toolsByName: new Map(tools.map((tool) => [tool.exposed, tool])) });
    }
    return tools;
  }

  async prompts(profile: Profile): Promise<Array<Exposed<Prompt>>> {
    return expose(profile, await this.listings(profile), (listing) => listing.prompts);
  }

  /** Resources, exposed by URI (`server+uri` when namespaced). */
  async resources(profile: Profile): Promise<Array<Exposed<Resource>>> {
    return expose(profile, await this.listings(profile), (listing) => listing.resources, (r) => r.uri, exposedUri);
  }

  async resourceTemplates(profile: Profile): Promise<Array<Exposed<ResourceTemplate>>> {
    return expose(profile, await this.listings(profile), (listing) => listing.resourceTemplates, (t) => t.uriTemplate, exposedUri);
  }

  /**
   * What findTool answers when memory has it (the server's listing is remembered, or the plain-names
   * view is built), without an await; undefined otherwise, and for every name findTool refuses.
   */
  knownTool(profile: Profile, exposed: string): CatalogTool | undefined {
    if (profile.names === 'plain') return this.currentView(profile)?.toolsByName.get(exposed);
    const target = this.allowedTarget(profile, exposed);
    if (!target) return undefined;
    const item = this.remembered.get(target.server)?.tools.find((candidate) => candidate.name === target.name);
    return item ? { server: target.server, item, exposed } : undefined;
  }

  /** The profile's memoized view, if no listing changed since it was made. */
  private currentView(profile: Profile): ProfileView | undefined {
    const memo = this.views.get(profile.name);
    return memo && memo.version === this.version ? memo : undefined;
  }

  /** The server and tool a namespaced name points at, if the profile allows that tool. */
  private allowedTarget(profile: Profile, exposed: string): { server: string; name: string } | undefined {
    const split = splitExposedName(exposed);
    return split && profile.servers.includes(split.server) && profile.allows(split.server, split.name) ? split : undefined;
  }

  /**
   * The tool behind an exposed name, if the profile allows it. The error is the same whether
   * the tool is outside the profile or does not exist, so that it reveals nothing.
   */
  async findTool(profile: Profile, exposed: string, options: ListOptions = {}): Promise<CatalogTool> {
    const notAllowed = () =>
      new GatehouseError('GH_TOOL_NOT_ALLOWED', `tool "${exposed}" is not available in profile "${profile.name}"`, {
        profile: profile.name,
        tool: exposed,
      });
    if (profile.names === 'plain') {
      // A plain name says nothing about its server: look it up in the profile's whole view.
      const byName = options.cachedOnly ? undefined : this.currentView(profile)?.toolsByName;
      const found = byName ? byName.get(exposed) : (await this.tools(profile, options)).find((tool) => tool.exposed === exposed);
      if (!found) throw notAllowed();
      return found;
    }
    const split = this.allowedTarget(profile, exposed);
    if (!split) throw notAllowed();
    let listing = await this.cached(split.server);
    if (!listing) {
      if (options.cachedOnly) {
        throw new GatehouseError(
          'GH_TOOL_NOT_INDEXED',
          `server "${split.server}" has not been indexed yet; call the tool with call_tool, or run \`gatehouse index\``,
          { server: split.server },
        );
      }
      listing = await this.listing(split.server);
    }
    const tool = listing.tools.find((candidate) => candidate.name === split.name);
    if (!tool) throw notAllowed();
    return { server: split.server, item: tool, exposed };
  }

  async findPrompt(profile: Profile, exposed: string): Promise<Exposed<Prompt>> {
    const found = (await this.prompts(profile)).find((prompt) => prompt.exposed === exposed);
    if (!found) {
      throw new GatehouseError('GH_PROMPT_NOT_ALLOWED', `prompt "${exposed}" is not available in profile "${profile.name}"`, {
        profile: profile.name,
      });
    }
    return found;
  }
}

/**
 * The allowed items of each listing (allowlists match by name), under the names the profile's
 * naming style gives them. `key` is what is exposed (the name, or a resource's URI) and
 * `prefix` how a namespaced key is written.
 */
function expose<T extends { name: string }>(
  profile: Profile,
  listings: Array<[string, ServerListing]>,
  items: (listing: ServerListing) => T[],
  key: (item: T) => string = (item) => item.name,
  prefix: (server: string, key: string) => string = exposedName,
): Array<Exposed<T>> {
  const allowed: Array<{ server: string; name: string; item: T }> = [];
  for (const [server, listing] of listings) {
    for (const item of items(listing)) if (profile.allows(server, item.name)) allowed.push({ server, name: key(item), item });
  }
  const names = assignNames(allowed, profile.names, prefix);
  return allowed.map((entry, index) => ({ server: entry.server, item: entry.item, exposed: names[index]! }));
}

import type { Tool } from '@modelcontextprotocol/sdk/types.js';
import { GatehouseError } from '../core/errors.js';
import { exposedName, splitExposedName } from '../core/naming.js';
import type { SchemaCache, ServerListing } from '../ports/schema-cache.js';
import type { ServerConnection } from '../downstream/server-connection.js';
import type { Profile } from './profiles.js';

export interface CatalogTool {
  server: string;
  tool: Tool;
  /** `server__tool`, the name agents see. */
  exposed: string;
}

/**
 * What each profile can see. Listings come from the schema cache when present, so that
 * listing needs no running process; otherwise the server is started (first use) and its
 * listing cached.
 */
export class Catalog {
  constructor(
    private readonly connections: ReadonlyMap<string, ServerConnection>,
    private readonly cache: SchemaCache,
    private readonly warn: (message: string, data: Record<string, unknown>) => void,
  ) {}

  cached(server: string): ServerListing | undefined {
    return this.cache.get(server);
  }

  /** The server's listing, starting it when nothing is cached. */
  async listing(server: string): Promise<ServerListing> {
    const cached = this.cache.get(server);
    if (cached) return cached;
    const connection = this.connections.get(server);
    if (!connection) throw new GatehouseError('GH_DOWNSTREAM_UNAVAILABLE', `unknown server "${server}"`, { server });
    await connection.connect();
    const listed = this.cache.get(server);
    if (!listed) throw new GatehouseError('GH_DOWNSTREAM_UNAVAILABLE', `server "${server}" started but gave no listing`, { server });
    return listed;
  }

  /**
   * Listings of every server the profile can touch. A server that cannot be started is left
   * out (and reported) rather than failing the whole list.
   */
  async listings(profile: Profile, options: { cachedOnly?: boolean } = {}): Promise<Array<[string, ServerListing]>> {
    const results = await Promise.all(
      profile.servers.map(async (server): Promise<[string, ServerListing] | undefined> => {
        if (options.cachedOnly) {
          const cached = this.cache.get(server);
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

  async tools(profile: Profile, options: { cachedOnly?: boolean } = {}): Promise<CatalogTool[]> {
    const out: CatalogTool[] = [];
    for (const [server, listing] of await this.listings(profile, options)) {
      for (const tool of listing.tools) {
        if (profile.allows(server, tool.name)) out.push({ server, tool, exposed: exposedName(server, tool.name) });
      }
    }
    return out;
  }

  /**
   * The tool behind an exposed name, if the profile allows it. The error is the same whether
   * the tool is outside the profile or does not exist, so that it reveals nothing.
   */
  async findTool(profile: Profile, exposed: string, options: { cachedOnly?: boolean } = {}): Promise<CatalogTool> {
    const notAllowed = () =>
      new GatehouseError('GH_TOOL_NOT_ALLOWED', `tool "${exposed}" is not available in profile "${profile.name}"`, {
        profile: profile.name,
        tool: exposed,
      });
    const split = splitExposedName(exposed);
    if (!split || !profile.servers.includes(split.server) || !profile.allows(split.server, split.name)) throw notAllowed();
    let listing = this.cache.get(split.server);
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
    return { server: split.server, tool, exposed };
  }
}

import type { Command } from 'commander';
import { GatehouseError } from '../core/errors.js';
import { GateBook } from '../governance/gate-book.js';
import { unmatchedToolNames } from '../governance/unmatched-tool-names.js';
import { compileProfiles } from '../gateway/profiles.js';
import type { CliContext } from './context.js';
import { defaultOperator, withOperatorStores } from './governance-context.js';
import { nonBlank } from './option-values.js';
import { formatTable } from './table.js';

/** `gatehouse tools [--profile P]` and `gatehouse tools accept SERVER/TOOL`. */
export function registerTools(program: Command, context: CliContext): void {
  const tools = program.command('tools').description('Tools with their gate and pin state; accept changed definitions');
  tools
    .command('list', { isDefault: true })
    .description('Every indexed tool (of one profile with --profile): gate, where the gate came from, pin state')
    .option('--config <file>', 'config file')
    .option('--profile <name>', 'only the tools this profile allows')
    .option('--json', 'print JSON')
    .action((options: { config?: string; profile?: string; json?: boolean }) => {
      return withOperatorStores(context, options.config, async ({ stores, config }) => {
        const profiles = compileProfiles(config);
        const profile = options.profile === undefined ? undefined : profiles.get(options.profile);
        if (options.profile !== undefined && !profile) {
          throw new GatehouseError('GH_PROFILE_UNKNOWN', `unknown profile "${options.profile}" (profiles: ${[...profiles.keys()].join(', ')})`);
        }
        const gates = new GateBook(config);
        // One read of every pin rather than one per tool (a round trip each on PostgreSQL).
        const pins = new Map((await stores.pins.states()).map((pin) => [`${pin.server}/${pin.tool}`, pin.status]));
        const rows: Array<{ tool: string; gate: string; source: string; pin: string }> = [];
        const unindexed: string[] = [];
        const listings = new Map<string, string[]>();
        for (const server of Object.keys(config.servers)) {
          const listing = await stores.cache.get(server);
          if (listing) listings.set(server, listing.tools.map((tool) => tool.name));
          if (profile && !profile.servers.includes(server)) continue;
          if (!listing) {
            unindexed.push(server);
            continue;
          }
          for (const tool of listing.tools) {
            if (profile && !profile.allows(server, tool.name)) continue;
            const { gate, source } = gates.gateOf(server, tool);
            rows.push({ tool: `${server}/${tool.name}`, gate, source, pin: pins.get(`${server}/${tool.name}`) ?? 'unpinned' });
          }
        }
        const unmatched = unmatchedToolNames(config, listings);
        if (options.json) return void process.stdout.write(`${JSON.stringify({ tools: rows, unindexed, unmatched }, null, 2)}\n`);
        process.stdout.write(formatTable(['TOOL', 'GATE', 'PIN', 'GATE SOURCE'], rows.map((r) => [r.tool, r.gate, r.pin, r.source])));
        if (unindexed.length > 0) process.stdout.write(`not indexed (run \`gatehouse index\`): ${unindexed.join(', ')}\n`);
        for (const problem of unmatched) process.stderr.write(`warning: ${problem}\n`);
      });
    });
  tools
    .command('accept <tool>')
    .description('Accept the changed definition of a quarantined tool (SERVER/TOOL); it is listed and callable again')
    .option('--config <file>', 'config file')
    .option('--by <name>', 'who reviewed the change (default: the OS user)', nonBlank('--by', 'a name'))
    .action((name: string, options: { config?: string; by?: string }) => {
      const slash = name.indexOf('/');
      if (slash <= 0 || slash === name.length - 1) throw new GatehouseError('GH_INVALID_ARGUMENTS', `"${name}" is not of the form SERVER/TOOL`);
      const server = name.slice(0, slash);
      const tool = name.slice(slash + 1);
      return withOperatorStores(context, options.config, async ({ stores, record }) => {
      const accepted = await stores.pins.accept(server, tool, new Date().toISOString());
      if (!accepted) {
        const pin = await stores.pins.get(server, tool);
        throw new GatehouseError('GH_TOOL_UNKNOWN', pin ? `${name} is not quarantined (its definition matches its pin)` : `no pinned tool ${name}`, { server, tool });
      }
      const by = options.by ?? defaultOperator();
      record({ type: 'tool.accepted', server, tool, payload: { by, hash: accepted.hash } });
      process.stdout.write(`${name} accepted by ${by}; pinned to ${accepted.hash.slice(0, 16)}\n`);
      });
    });
}

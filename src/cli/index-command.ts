import type { Command } from 'commander';
import { openGateway } from '../app.js';
import { GatehouseError } from '../core/errors.js';
import { checkToolDefinitions } from '../downstream/tool-definitions.js';
import type { CliContext } from './context.js';
import { readSnapshots, type ToolSnapshot } from './index-snapshots.js';

interface IndexOptions {
  config?: string;
  server?: string[];
  missing?: boolean;
  snapshotDir?: string;
}

/**
 * `gatehouse index`: fills the schema cache so that listing and lazy search need no running
 * server. Each server is started, listed and stopped; with --snapshot-dir, a server that has a
 * snapshot file there (`<server>.json`, a tools/list `tools` array) is seeded from it instead.
 * A snapshot with no valid tool never replaces a cached listing that has tools: that would
 * take every tool of the server out of every profile.
 */
export function registerIndex(program: Command, context: CliContext): void {
  program
    .command('index')
    .description('List every server once and store its tools, resources and prompts in the schema cache')
    .option('--config <file>', 'config file (default ./gatehouse.yaml, else examples/gatehouse.yaml)')
    .option('--server <name...>', 'only these servers')
    .option('--missing', 'only servers that have no cache entry yet')
    .option('--snapshot-dir <dir>', 'seed servers that have <dir>/<server>.json from that snapshot instead of starting them')
    .action(async (options: IndexOptions) => {
      const config = context.loadConfig(options.config);
      // The table below says what happened to each server; per-start log lines would repeat it.
      if (!context.env.GATEHOUSE_LOG_LEVEL) context.log.level = 'warn';
      const names = options.server ?? Object.keys(config.servers);
      const unknown = names.filter((name) => !(name in config.servers));
      if (unknown.length > 0) {
        throw new GatehouseError('GH_INVALID_ARGUMENTS', `--server: no server ${unknown.map((name) => `"${name}"`).join(', ')} in ${config.configPath} (servers: ${Object.keys(config.servers).join(', ') || 'none'})`, { option: '--server', value: unknown });
      }
      const snapshots = options.snapshotDir === undefined ? new Map<string, ToolSnapshot>() : readSnapshots(options.snapshotDir, names);
      const { gateway, close } = await openGateway(config, context.env, context.log);
      try {
        const rows: string[] = [];
        let failed = 0;
        for (const name of names) {
          if (options.missing && (await gateway.catalog.cached(name))) continue;
          const started = performance.now();
          const snapshot = snapshots.get(name);
          try {
            if (snapshot) {
              const { tools, rejected } = checkToolDefinitions(snapshot.tools);
              const cached = await gateway.catalog.cached(name);
              if (tools.length === 0 && cached && cached.tools.length > 0) {
                failed += 1;
                const why = rejected.length > 0 ? `none of its ${rejected.length} tools is valid` : 'it lists no tool';
                rows.push(`${name.padEnd(22)} FAILED   ${snapshot.file}: ${why}; the cached listing (${cached.tools.length} tools, ${cached.source} ${cached.listedAt}) is kept`);
                for (const bad of rejected) rows.push(`${''.padEnd(22)} invalid tool "${bad.name}": ${bad.problem}`);
                continue;
              }
              await gateway.storeListing(name, { ...emptyListing(), tools, ...(rejected.length > 0 ? { rejected } : {}) });
            } else {
              await gateway.connections.get(name)!.connect();
              await gateway.connections.get(name)!.stop('shutdown');
            }
            const listing = (await gateway.catalog.cached(name))!;
            rows.push(row(name, listing.source, listing.tools.length, listing.resources.length, listing.prompts.length, started));
            for (const bad of listing.rejected ?? []) rows.push(`${''.padEnd(22)} left out tool "${bad.name}": ${bad.problem}`);
          } catch (error) {
            failed += 1;
            rows.push(`${name.padEnd(22)} FAILED   ${(error as Error).message}`);
          }
        }
        process.stdout.write(`${'server'.padEnd(22)} source   tools resources prompts     ms\n${rows.join('\n')}\n`);
        if (failed > 0) process.exitCode = 1;
      } finally {
        await close();
      }
    });
}

function row(name: string, source: string, tools: number, resources: number, prompts: number, started: number): string {
  const ms = Math.round(performance.now() - started);
  return `${name.padEnd(22)} ${source.padEnd(8)} ${String(tools).padStart(5)} ${String(resources).padStart(9)} ${String(prompts).padStart(7)} ${String(ms).padStart(6)}`;
}

function emptyListing() {
  return { resources: [], resourceTemplates: [], prompts: [], listedAt: new Date().toISOString(), source: 'snapshot' as const };
}

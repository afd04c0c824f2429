import path from 'node:path';
import type { Command } from 'commander';
import { runMailServer } from '../demo/mail-server.js';
import { loadDefinition } from '../pipeline/definition/load.js';
import { ENGINES, type EngineChoice } from '../pipeline/engines/open.js';
import type { CliContext } from './context.js';
import { oneOf } from './option-values.js';

/** Where `demo-server mail` keeps its outbox without --outbox or GATEHOUSE_MAIL_OUTBOX (relative to the cwd). */
export const DEFAULT_MAIL_OUTBOX = '.gatehouse/outbox';

/**
 * `gatehouse demo-server mail [--outbox DIR]`: the bundled demo MCP servers, served over stdio,
 * for a gatehouse.yaml to list as downstream servers (`command: gatehouse`,
 * `args: [demo-server, mail]`). Nothing they do leaves the machine.
 */
export function registerDemoServer(program: Command, context: CliContext): void {
  const demo = program.command('demo-server').description('Run a bundled demo MCP server over stdio (for trying out the gates)');
  demo
    .command('mail')
    .description('A mail server whose sent messages are .eml files in an outbox folder')
    .option('--outbox <dir>', `outbox folder (default $GATEHOUSE_MAIL_OUTBOX, else ${DEFAULT_MAIL_OUTBOX})`)
    .action(async (options: { outbox?: string }) => {
      const outboxDir = path.resolve(options.outbox ?? context.env.GATEHOUSE_MAIL_OUTBOX ?? DEFAULT_MAIL_OUTBOX);
      await runMailServer({ outboxDir });
    });
  demo
    .command('pipeline')
    .description('The data pipeline as MCP tools: pipeline_status and list_quarantine (read-only), run_pipeline and release_quarantined (they change Final)')
    .requiredOption('--definition <file>', 'pipeline definition (YAML)')
    .requiredOption('--data <dir>', 'folder a run reads new files from')
    .option('--db <file>', 'DuckDB database file (default .gatehouse/pipeline/<name>.duckdb)')
    .option('--engine <name>', 'duckdb or postgres', oneOf('--engine', ENGINES), 'duckdb')
    .option('--pg-url <url>', 'PostgreSQL connection URL (default $GATEHOUSE_PIPELINE_PG_URL)')
    .action(async (options: { definition: string; data: string; db?: string; engine: EngineChoice['engine']; pgUrl?: string }) => {
      // Imported here so that `demo-server mail` never loads the pipeline's engines.
      const { runPipelineServer } = await import('../pipeline/server/mcp-server.js');
      const definitionPath = path.resolve(options.definition);
      const name = loadDefinition(definitionPath).definition.name;
      await runPipelineServer({
        definitionPath,
        dataDir: path.resolve(options.data),
        engine: { engine: options.engine, database: path.resolve(options.db ?? `.gatehouse/pipeline/${name}.duckdb`), url: options.pgUrl ?? context.env.GATEHOUSE_PIPELINE_PG_URL ?? '' },
      });
    });
}

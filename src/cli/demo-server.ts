import path from 'node:path';
import type { Command } from 'commander';
import { runMailServer } from '../demo/mail-server.js';
import type { CliContext } from './context.js';

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
}

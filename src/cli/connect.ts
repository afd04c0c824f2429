import type { Command } from 'commander';
import { openGateway } from '../app.js';
import { serveStdio } from '../transports/stdio.js';
import type { CliContext } from './context.js';

/** `gatehouse connect --profile P`: what a client puts in its MCP config to reach Gatehouse over stdio. */
export function registerConnect(program: Command, context: CliContext): void {
  program
    .command('connect')
    .description('Serve one profile over stdio (for a client such as Claude Code that starts this process)')
    .requiredOption('--profile <name>', 'profile to expose')
    .option('--config <file>', 'config file (default ./gatehouse.yaml, else examples/gatehouse.yaml)')
    .action(async (options: { profile: string; config?: string }) => {
      const config = context.loadConfig(options.config);
      const { gateway, close } = await openGateway(config, context.env, context.log);
      const { closed } = await serveStdio(gateway, options.profile);
      for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => void close().then(() => process.exit(0)));
      await closed;
      await close();
    });
}

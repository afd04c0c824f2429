import type { Command } from 'commander';
import { openGateway } from '../app.js';
import { serveStdio } from '../transports/stdio.js';
import { startTracing } from '../telemetry/tracing.js';
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
      // No /metrics here (nothing to scrape a stdio process through); spans, when configured.
      const tracing = await startTracing(config.tracing, context.log);
      const { gateway, close } = await openGateway(config, context.env, context.log, { tracing: tracing.tracing });
      const { closed } = await serveStdio(gateway, options.profile);
      const end = () => close().then(tracing.shutdown);
      for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => void end().then(() => process.exit(0)));
      await closed;
      await end();
    });
}

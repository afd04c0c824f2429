import type { Command } from 'commander';
import { openGateway } from '../app.js';
import type { GatehouseConfig } from '../config/load.js';
import { GatehouseError } from '../core/errors.js';
import { TokenBook, type AgentIdentity } from '../gateway/tokens.js';
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
    .option('--token-env <var>', 'environment variable holding an agent\'s token: the session is that agent\'s (its name in events, its rate limit); without it, the local user\'s (local:<profile>)')
    .action(async (options: { profile: string; config?: string; tokenEnv?: string }) => {
      const config = context.loadConfig(options.config);
      // Checked before anything starts: a refused token must not cost a gateway start.
      const agent = options.tokenEnv === undefined ? undefined : agentOfToken(config, context.env, options.tokenEnv, options.profile);
      // No /metrics here (nothing to scrape a stdio process through); spans, when configured.
      const tracing = await startTracing(config.tracing, context.log);
      const { gateway, close } = await openGateway(config, context.env, context.log, { tracing: tracing.tracing });
      const { closed } = await serveStdio(gateway, options.profile, agent);
      const end = () => close().then(tracing.shutdown);
      for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => void end().then(() => process.exit(0)));
      await closed;
      await end();
    });
}

/** The agent whose token is in `tokenEnv`, if it may use `profile`; GH_AUTH_* otherwise, as over HTTP. */
function agentOfToken(config: GatehouseConfig, env: NodeJS.ProcessEnv, tokenEnv: string, profile: string): AgentIdentity {
  const token = env[tokenEnv];
  if (!token) throw new GatehouseError('GH_AUTH_MISSING', `--token-env ${tokenEnv}: the environment variable ${tokenEnv} is not set or empty`, { tokenEnv });
  const agent = new TokenBook(config, env).authenticate(token);
  TokenBook.authorize(agent, profile);
  return agent;
}

import path from 'node:path';
import type { Command } from 'commander';
import { openGateway } from '../app.js';
import type { GatehouseConfig } from '../config/load.js';
import { serveHttp } from '../transports/http.js';
import { metricsNeedToken } from '../transports/metrics-endpoint.js';
import { createMetrics } from '../telemetry/metrics.js';
import { startTracing } from '../telemetry/tracing.js';
import type { CliContext } from './context.js';
import { portNumber } from './option-values.js';

/** `gatehouse serve`: streamable HTTP for every profile at /mcp/<profile>. */
export function registerServe(program: Command, context: CliContext): void {
  program
    .command('serve')
    .description('Serve every profile over streamable HTTP at /mcp/<profile> (default 127.0.0.1:7700)')
    .option('--config <file>', 'config file (default ./gatehouse.yaml, else examples/gatehouse.yaml)')
    .option('--host <host>', 'address to bind (default from config, 127.0.0.1)')
    .option('--port <port>', 'port to bind (default from config, 7700; 0 picks a free one)', portNumber('--port'))
    .option('--quiet', 'print only the listening line, not the connection guide')
    .action(async (options: { config?: string; host?: string; port?: number; quiet?: boolean }) => {
      const config = context.loadConfig(options.config);
      const tracing = await startTracing(config.tracing, context.log);
      const metrics = config.metrics.enabled ? await createMetrics() : undefined;
      const { gateway, close } = await openGateway(config, context.env, context.log, { tracing: tracing.tracing, metrics });
      const host = options.host ?? config.http.host;
      const http = await serveHttp(gateway, { host, port: options.port ?? config.http.port, metrics });
      if (metrics && metricsNeedToken(config.metrics.auth, host) && Object.keys(config.operators).length === 0) {
        context.log.warn({ host, auth: config.metrics.auth }, '/metrics needs an operator token here, and no operator is configured: nobody can scrape it');
      }
      process.stdout.write(`gatehouse listening on ${http.url} (config ${path.relative(process.cwd(), config.configPath) || config.configPath})\n`);
      if (!options.quiet) process.stdout.write(connectionGuide(config, http.url));
      // Sessions first (their close events), then servers and the store, which flushes the audit
      // outbox, then the spans not exported yet.
      const shutdown = () => {
        void http
          .close()
          .then(close)
          .then(tracing.shutdown)
          .then(() => process.exit(0));
      };
      process.once('SIGINT', shutdown);
      process.once('SIGTERM', shutdown);
    });
}

/** A ready .mcp.json for Claude Code, for both transports, using the config's own profiles and agents. */
function connectionGuide(config: GatehouseConfig, url: string): string {
  const cli = path.resolve(process.argv[1] ?? 'gatehouse');
  const lines: string[] = ['', 'Profiles:'];
  for (const [name, profile] of Object.entries(config.profiles)) {
    lines.push(`  ${name.padEnd(12)} ${profile.mode.padEnd(6)} ${url}/mcp/${name}   allow: ${profile.allow.join(', ')}`);
  }
  const [agentName, agent] = Object.entries(config.agents).find(([, a]) => a.tokenFile || a.tokenEnv) ?? [];
  const profile = agent?.profiles[0] ?? Object.keys(config.profiles)[0]!;
  const tokenVar = agent?.tokenEnv ?? 'GATEHOUSE_TOKEN';
  const servers: Record<string, unknown> = {
    'gatehouse-stdio': { type: 'stdio', command: process.execPath, args: [cli, 'connect', '--profile', profile, '--config', config.configPath] },
  };
  if (agent) {
    servers['gatehouse-http'] = { type: 'http', url: `${url}/mcp/${profile}`, headers: { Authorization: `Bearer \${${tokenVar}}` } };
  }
  lines.push('', 'Connect Claude Code: put this in .mcp.json (stdio needs no token; HTTP reads the token from the environment):');
  lines.push(JSON.stringify({ mcpServers: servers }, null, 2));
  if (agent?.tokenFile) {
    lines.push('', `Before starting Claude Code (agent "${agentName}"): export ${tokenVar}="$(cat ${path.relative(process.cwd(), agent.tokenFile)})"`);
  } else if (agent) {
    lines.push('', `Before starting Claude Code (agent "${agentName}"): export ${tokenVar}=<its token>`);
  }
  lines.push('Or add it from the command line: claude mcp add --transport stdio gatehouse -- ' + [process.execPath, cli, 'connect', '--profile', profile, '--config', config.configPath].join(' '), '');
  return `${lines.join('\n')}\n`;
}

import { existsSync, readFileSync } from 'node:fs';
import type { Command } from 'commander';
import type { GatehouseConfig } from '../config/load.js';
import { GatehouseError } from '../core/errors.js';
import type { ServerReport } from '../gateway/gateway.js';
import type { CliContext } from './context.js';
import { formatTable } from './table.js';
import { wholeNumber } from './option-values.js';

interface ServersOptions {
  config?: string;
  url?: string;
  tokenEnv: string;
  json?: boolean;
  stderr: number;
}

/**
 * `gatehouse servers`: asks a running `gatehouse serve` (GET /api/servers, operator token) for the
 * live state of its downstream servers: running, crashed or failed (crash-looping), their circuit,
 * calls in flight, and the last stderr lines of those that crashed. Server state lives in the
 * gateway process, not in the store; `gatehouse connect` processes record the same facts as
 * server.crashed / server.failed / circuit.* events.
 */
export function registerServers(program: Command, context: CliContext): void {
  program
    .command('servers')
    .description('Live state of the downstream servers of a running gatehouse serve: crashes, failed servers and their stderr, circuits')
    .option('--config <file>', 'config file (its http.host and http.port, and its operators, are used)')
    .option('--url <url>', 'the gateway to ask (default http://<http.host>:<http.port> of the config)')
    .option('--token-env <var>', 'environment variable holding an operator token (else the first operator of the config with tokenEnv or tokenFile)', 'GATEHOUSE_OPERATOR_TOKEN')
    .option('--stderr <lines>', 'stderr lines shown per crashed or failed server (0: none)', wholeNumber('--stderr'), 5)
    .option('--json', 'print the JSON the gateway answered')
    .action(async (options: ServersOptions) => {
      const config = context.loadConfig(options.config);
      const base = options.url ?? `http://${config.http.host.includes(':') ? `[${config.http.host}]` : config.http.host}:${config.http.port}`;
      const token = operatorToken(config, context.env, options.tokenEnv);
      const answer = await fetchServers(base, token);
      if (options.json) return void process.stdout.write(`${JSON.stringify(answer, null, 2)}\n`);
      const lines = options.stderr;
      process.stdout.write(
        formatTable(
          ['SERVER', 'STATE', 'PID', 'CRASHES', 'NEXT START', 'CIRCUIT', 'IN FLIGHT'],
          answer.servers.map((s) => [
            s.server,
            s.state,
            s.pid === null ? '-' : String(s.pid),
            String(s.consecutiveCrashes),
            s.nextStartAt ?? '-',
            s.circuit.state === 'open' ? `open until ${s.circuit.retryAt}` : s.circuit.state,
            `${s.bulkhead.inFlight}${s.bulkhead.queued > 0 ? ` (+${s.bulkhead.queued} queued)` : ''}`,
          ]),
        ),
      );
      for (const s of answer.servers) {
        if ((s.state !== 'crashed' && s.state !== 'failed') || s.stderrTail.length === 0 || !(lines > 0)) continue;
        process.stdout.write(`\n${s.server} (${s.state}), last stderr lines:\n${s.stderrTail.slice(-lines).map((line) => `  ${line}`).join('\n')}\n`);
      }
    });
}

async function fetchServers(base: string, token: string | undefined): Promise<{ servers: ServerReport[] }> {
  const url = `${base.replace(/\/$/, '')}/api/servers`;
  let response: Response;
  try {
    response = await fetch(url, { headers: token ? { authorization: `Bearer ${token}` } : {}, signal: AbortSignal.timeout(5_000) });
  } catch (error) {
    throw new GatehouseError('GH_GATEWAY_UNREACHABLE', `no gateway answered at ${url}: ${(error as Error).message} (is gatehouse serve running? pass --url)`, { url });
  }
  const body = (await response.json().catch(() => ({}))) as { servers?: ServerReport[]; error?: { code: string; message: string } };
  if (!response.ok || !body.servers) {
    const why = body.error ? `${body.error.code}: ${body.error.message}` : `HTTP ${response.status}`;
    throw new GatehouseError('GH_GATEWAY_UNREACHABLE', `the gateway at ${url} refused: ${why} (an operator token is needed: --token-env VAR)`, { url, status: response.status });
  }
  return body as { servers: ServerReport[] };
}

/** The token from --token-env, else from the config's first operator that has a tokenEnv that is set or a tokenFile that exists. */
function operatorToken(config: GatehouseConfig, env: NodeJS.ProcessEnv, tokenEnv: string): string | undefined {
  if (env[tokenEnv]) return env[tokenEnv];
  for (const operator of Object.values(config.operators)) {
    if (operator.tokenEnv && env[operator.tokenEnv]) return env[operator.tokenEnv];
    if (operator.tokenFile && existsSync(operator.tokenFile)) return readFileSync(operator.tokenFile, 'utf8').trim();
  }
  return undefined;
}

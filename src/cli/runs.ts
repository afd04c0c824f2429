import type { Command } from 'commander';
import { GatehouseError } from '../core/errors.js';
import { RUN_STATUSES, type Run, type RunFilter, type RunStatus } from '../ports/runs-store.js';
import type { CliContext } from './context.js';
import { withOperatorStores } from './governance-context.js';
import { wholeNumber } from './option-values.js';
import { parseSince } from './since.js';
import { formatTable } from './table.js';

/** `gatehouse runs`: one row per tool call, newest first, from the runs view. */
export function registerRuns(program: Command, context: CliContext): void {
  program
    .command('runs')
    .description('Tool calls, newest first: run id, agent, profile, tool, gate, status, start, duration, outcome')
    .option('--config <file>', 'config file')
    .option('--agent <name>', 'only this agent')
    .option('--status <status>', `only this status: ${RUN_STATUSES.join(', ')}`)
    .option('--since <time>', 'only runs started at or after this time (ISO-8601, or 90m, 24h, 7d back from now)')
    .option('--run <id>', 'only this run')
    .option('--limit <n>', 'at most this many (default 50)', wholeNumber('--limit', 1))
    .option('--json', 'print JSON')
    .action((options: { config?: string; agent?: string; status?: string; since?: string; run?: string; limit?: number; json?: boolean }) =>
      withOperatorStores(context, options.config, async ({ stores }) => {
        if (options.status !== undefined && !RUN_STATUSES.includes(options.status as RunStatus)) {
          throw new GatehouseError('GH_INVALID_ARGUMENTS', `--status must be one of ${RUN_STATUSES.join(', ')}`);
        }
        const filter: RunFilter = {
          ...(options.agent !== undefined ? { agent: options.agent } : {}),
          ...(options.status !== undefined ? { status: options.status as RunStatus } : {}),
          ...(options.since !== undefined ? { since: parseSince(options.since, new Date()) } : {}),
          ...(options.run !== undefined ? { runId: options.run } : {}),
          limit: options.limit ?? 50,
        };
        const runs = await stores.runs.list(filter);
        if (options.json) return void process.stdout.write(`${JSON.stringify(runs, null, 2)}\n`);
        if (runs.length === 0) return void process.stdout.write('no runs\n');
        process.stdout.write(formatTable(['RUN', 'STARTED', 'AGENT', 'PROFILE', 'TOOL', 'GATE', 'STATUS', 'DURATION', 'OUTCOME'], runs.map(row)));
      }),
    );
}

function row(run: Run): string[] {
  const tool = run.server ? `${run.server}/${run.tool ?? ''}` : (run.tool ?? '-');
  const duration = run.durationMs === null ? '-' : `${run.durationMs < 10 ? run.durationMs.toFixed(1) : Math.round(run.durationMs)} ms`;
  const outcome = [run.outcome, run.code].filter(Boolean).join(' ') || '-';
  return [run.runId, run.startedAt, run.agent ?? '-', run.profile ?? '-', tool, run.gate ?? '-', run.status, duration, outcome];
}

import type { Command } from 'commander';
import { GatehouseError } from '../core/errors.js';
import type { CliContext } from './context.js';
import { defaultOperator, withOperatorStores } from './governance-context.js';
import { nonBlank } from './option-values.js';
import { formatTable } from './table.js';

/** `gatehouse review list|ack`: G1 calls ran at once; a human looks at them afterwards. */
export function registerReview(program: Command, context: CliContext): void {
  const review = program.command('review').description('G1 calls waiting to be reviewed');
  review
    .command('list')
    .description('Items not yet acknowledged (all with --all), newest first')
    .option('--config <file>', 'config file')
    .option('--all', 'include acknowledged items')
    .option('--json', 'print JSON')
    .action((options: { config?: string; all?: boolean; json?: boolean }) => {
      return withOperatorStores(context, options.config, async ({ stores }) => {
      const items = await stores.reviews.list({ pending: !options.all });
      if (options.json) return void process.stdout.write(`${JSON.stringify(items, null, 2)}\n`);
      if (items.length === 0) return void process.stdout.write('nothing to review\n');
      process.stdout.write(
        formatTable(
          ['ID', 'AT', 'AGENT', 'TOOL', 'OUTCOME', 'ACKED', 'ARGUMENTS → RESULT'],
          items.map((item) => [
            item.id,
            item.at,
            item.agent,
            `${item.server}/${item.tool}`,
            item.outcome,
            item.ackedBy ?? '-',
            `${JSON.stringify(item.arguments).slice(0, 60)} → ${item.summary.replace(/\s+/g, ' ').slice(0, 60)}`,
          ]),
        ),
      );
      });
    });
  review
    .command('ack <id>')
    .description('Mark an item reviewed')
    .option('--config <file>', 'config file')
    .option('--by <name>', 'who reviewed it (default: the OS user)', nonBlank('--by', 'a name'))
    .action((id: string, options: { config?: string; by?: string }) => {
      return withOperatorStores(context, options.config, async ({ stores, record }) => {
      const by = options.by ?? defaultOperator();
      const item = await stores.reviews.ack(id, by, new Date().toISOString());
      if (!item) throw new GatehouseError('GH_REVIEW_UNKNOWN', `no unacknowledged review item "${id}"`, { review: id });
      record({ type: 'review.acknowledged', agent: item.agent, profile: item.profile, server: item.server, tool: item.tool, payload: { review: id, by } });
      process.stdout.write(`${id} acknowledged by ${by}\n`);
      });
    });
}

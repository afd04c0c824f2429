import type { Command } from 'commander';
import { openGateway } from '../app.js';
import { GatehouseError } from '../core/errors.js';
import type { GatehouseEvent } from '../core/events.js';
import { rerunDeadCall } from '../gateway/approved-calls.js';
import { DEAD_LETTER_LIST_LIMIT, DeadLetterBox, type ListedDeadLetter } from '../gateway/dead-letter-box.js';
import { DEAD_LETTER_STATUSES, type DeadLetter, type DeadLetterStatus } from '../ports/dead-letter-store.js';
import type { CliContext } from './context.js';
import { defaultOperator, withOperatorStores } from './governance-context.js';
import { nonBlank, wholeNumber } from './option-values.js';
import { formatTable } from './table.js';

/**
 * `gatehouse dlq list|retry|drop`: approved calls that failed after their agent stopped waiting,
 * and audit events the store refused, kept for an operator (table, or the fallback file).
 */
export function registerDlq(program: Command, context: CliContext): void {
  const dlq = program.command('dlq').description('Dead letters: failed approved calls and unwritten audit events');
  dlq
    .command('list')
    .description('Dead letters, newest first (open ones unless --status or --all)')
    .option('--config <file>', 'config file')
    .option('--status <status>', `only this status: ${DEAD_LETTER_STATUSES.join(', ')}`)
    .option('--all', 'every status')
    .option('--limit <n>', `at most this many, the newest (default ${DEAD_LETTER_LIST_LIMIT})`, wholeNumber('--limit', 1))
    .option('--json', 'print JSON')
    .action((options: { config?: string; status?: string; all?: boolean; limit?: number; json?: boolean }) =>
      withOperatorStores(context, options.config, async ({ stores, record }) => {
        if (options.status && !DEAD_LETTER_STATUSES.includes(options.status as DeadLetterStatus)) {
          throw new GatehouseError('GH_INVALID_ARGUMENTS', `--status must be one of ${DEAD_LETTER_STATUSES.join(', ')}`);
        }
        const status = options.all ? undefined : ((options.status ?? 'open') as DeadLetterStatus);
        const limit = options.limit ?? DEAD_LETTER_LIST_LIMIT;
        const { letters, unreadable, more } = await new DeadLetterBox(stores.deadLetters, stores.deadLetterFile, record).list(status, limit);
        if (options.json) process.stdout.write(`${JSON.stringify(letters, null, 2)}\n`);
        else if (letters.length === 0) process.stdout.write(`no ${status ?? ''} dead letters\n`.replace('  ', ' '));
        else process.stdout.write(formatTable(['ID', 'STATUS', 'KIND', 'WHERE', 'CREATED', 'AGENT', 'TOOL', 'ATTEMPTS', 'ERROR'], letters.map(row)));
        // Listed, not fatal: the rest of the letters are still shown; the file is the operator's to mend.
        for (const bad of unreadable) process.stderr.write(`warning: ${bad.file}${bad.line === undefined ? '' : `:${bad.line}`} is not listed: ${bad.problem}\n`);
        if (more) process.stderr.write(`note: there are more ${status ?? ''} dead letters than the ${limit} listed (the newest); --limit lists more\n`.replace('  ', ' '));
      }),
    );
  dlq
    .command('retry <id>')
    .description('Run it once more: a call is re-run under the idempotency key dlq:<id>; events are appended again')
    .option('--config <file>', 'config file')
    .option('--by <name>', 'who retries (default: the OS user)', nonBlank('--by', 'a name'))
    .option('--reclaim', 'take it back from an earlier retry on another host that is gone (one on this host is checked)')
    .action(async (id: string, options: { config?: string; by?: string; reclaim?: boolean }) => {
      const config = context.loadConfig(options.config);
      const { gateway, close } = await openGateway(config, context.env, context.log, { runApprovedCalls: false });
      try {
        const by = options.by ?? defaultOperator();
        let outcome = '';
        const retried = await gateway.deadLetters.retry(id, by, async (letter) => {
          if (letter.kind === 'events') {
            await gateway.stores.events.appendBatch((letter.payload as { events: GatehouseEvent[] }).events);
            outcome = `${(letter.payload as { events: unknown[] }).events.length} events appended`;
          } else {
            const result = await rerunDeadCall(gateway, letter);
            outcome = `${result.isError ? 'the tool answered with an error' : 'the call succeeded'}${result._meta?.['gatehouse/replay'] ? ' (already retried: stored outcome)' : ''}`;
          }
        }, { reclaim: options.reclaim ?? false });
        process.stdout.write(`${retried.id} ${retried.status} by ${by}: ${outcome}\n`);
      } finally {
        await close();
      }
    });
  dlq
    .command('drop <id>')
    .description('Give up on it; it stays listed as dropped, and the audit records who and why')
    .option('--config <file>', 'config file')
    .requiredOption('--reason <text>', 'why (kept in the audit event)', nonBlank('--reason', 'a reason'))
    .option('--by <name>', 'who drops it (default: the OS user)', nonBlank('--by', 'a name'))
    .option('--reclaim', 'take it back from an earlier retry on another host that is gone (one on this host is checked)')
    .action((id: string, options: { config?: string; reason: string; by?: string; reclaim?: boolean }) =>
      withOperatorStores(context, options.config, async ({ stores, record }) => {
        const by = options.by ?? defaultOperator();
        const dropped = await new DeadLetterBox(stores.deadLetters, stores.deadLetterFile, record).drop(id, by, options.reason, { reclaim: options.reclaim ?? false });
        process.stdout.write(`${dropped.id} dropped by ${by}: ${options.reason}\n`);
      }),
    );
}

function row(letter: ListedDeadLetter): string[] {
  return [letter.id, letter.status, letter.kind, letter.where, letter.createdAt, letter.agent ?? '-', toolOf(letter), String(letter.attempts), `${letter.error.code}: ${letter.error.message}`.slice(0, 80)];
}

function toolOf(letter: DeadLetter): string {
  if (letter.kind === 'events') return `${(letter.payload as { events?: unknown[] }).events?.length ?? 0} events`;
  return `${letter.server ?? '?'}/${letter.tool ?? '?'}`;
}

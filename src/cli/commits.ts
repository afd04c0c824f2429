import type { Command } from 'commander';
import { GatehouseError } from '../core/errors.js';
import { ownerNow, resolveUnknown, type OwnerNow } from '../governance/crash-recovery.js';
import type { IdempotencyRecord } from '../ports/idempotency-ledger.js';
import type { CliContext } from './context.js';
import { defaultOperator, withOperatorStores } from './governance-context.js';
import { nonBlank } from './option-values.js';
import { formatTable } from './table.js';

/**
 * `gatehouse commits list|resolve`: keyed calls (a G3 commit, a G2 call with its approval, any
 * call with an idempotency key) that were in flight when their gateway died. They are never
 * sent again by themselves; a human says whether they went out.
 */
export function registerCommits(program: Command, context: CliContext): void {
  const commits = program.command('commits').description('Calls whose outcome a gateway crash made unknown, and their resolution');
  commits
    .command('list')
    .description('Calls with an unknown outcome, oldest first (with --all also those in flight now)')
    .option('--config <file>', 'config file')
    .option('--all', 'also calls in progress, with how their gateway process looks now (OWNER NOW)')
    .option('--json', 'print JSON')
    .action((options: { config?: string; all?: boolean; json?: boolean }) =>
      withOperatorStores(context, options.config, async ({ stores }) => {
        const inProgress = options.all ? await stores.ledger.list('in_progress') : [];
        const list = [...(await stores.ledger.list('unknown')), ...(await Promise.all(inProgress.map(async (entry) => ({ ...entry, ownerNow: await ownerNow(entry.owner, stores.processes) }))))];
        if (options.json) return void process.stdout.write(`${JSON.stringify(list, null, 2)}\n`);
        if (list.length === 0) return void process.stdout.write('no calls with an unknown outcome\n');
        process.stdout.write(formatTable(['KEY', 'STATE', 'AGENT', 'TOOL', 'STARTED', 'OWNER', 'OWNER NOW'], list.map(row)));
      }),
    );
  commits
    .command('resolve <key>')
    .description('Say whether an unknown call was sent: --sent (a repeat replays "sent") or --not-sent (the key is free again)')
    .option('--config <file>', 'config file')
    .option('--sent', 'it was executed downstream')
    .option('--not-sent', 'it was not executed')
    .option('--agent <name>', 'the agent, when the key is unknown for several')
    .option('--tool <server/tool>', 'the tool, when the key is unknown for several')
    .option('--by <name>', 'who decides (default: the OS user)', nonBlank('--by', 'a name'))
    .option('--reason <text>', 'how you know (kept in the audit event)', nonBlank('--reason', 'a reason'))
    .action((key: string, options: { config?: string; sent?: boolean; notSent?: boolean; agent?: string; tool?: string; by?: string; reason?: string }) =>
      withOperatorStores(context, options.config, async ({ stores, record }) => {
        if (options.sent === options.notSent) throw new GatehouseError('GH_INVALID_ARGUMENTS', 'give exactly one of --sent and --not-sent');
        const by = options.by ?? defaultOperator();
        const resolved = await resolveUnknown(stores.ledger, record, { key, agent: options.agent, tool: options.tool }, { sent: options.sent === true, by, reason: options.reason });
        process.stdout.write(`${resolved.key} (${resolved.agent} ${resolved.tool}) resolved as ${options.sent ? 'sent' : 'not sent'} by ${by}: now ${resolved.state}\n`);
      }),
    );
}

function row(entry: IdempotencyRecord & { ownerNow?: OwnerNow }): string[] {
  return [entry.key, entry.state, entry.agent, entry.tool, entry.startedAt ?? '-', entry.owner ?? '-', entry.ownerNow ?? '-'];
}

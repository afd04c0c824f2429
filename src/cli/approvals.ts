import type { Command } from 'commander';
import { GatehouseError } from '../core/errors.js';
import { APPROVAL_STATUSES as STATUSES, type ApprovalRequest, type ApprovalStatus } from '../ports/approval-store.js';
import type { CliContext } from './context.js';
import { defaultOperator, withOperatorStores, type OperatorStores } from './governance-context.js';
import { nonBlank } from './option-values.js';
import { formatTable } from './table.js';

/** `gatehouse approvals list|show|approve|reject`: a human decides G2/G3 calls from any shell on the store. */
export function registerApprovals(program: Command, context: CliContext): void {
  const approvals = program.command('approvals').description('List and decide approval requests of G2/G3 calls');
  const withStores = <T>(configFile: string | undefined, body: (operator: OperatorStores) => T | Promise<T>) => withOperatorStores(context, configFile, body);

  approvals
    .command('list')
    .description('Approval requests, newest first (pending ones unless --status or --all)')
    .option('--config <file>', 'config file')
    .option('--status <status>', `only this status: ${STATUSES.join(', ')}`)
    .option('--all', 'every status')
    .option('--json', 'print JSON')
    .action((options: { config?: string; status?: string; all?: boolean; json?: boolean }) =>
      withStores(options.config, async ({ desk }) => {
        if (options.status && !STATUSES.includes(options.status as ApprovalStatus)) {
          throw new GatehouseError('GH_INVALID_ARGUMENTS', `--status must be one of ${STATUSES.join(', ')}`);
        }
        const status = options.all ? undefined : ((options.status ?? 'pending') as ApprovalStatus);
        const list = await desk.list(status ? { status } : {});
        if (options.json) return void process.stdout.write(`${JSON.stringify(list, null, 2)}\n`);
        if (list.length === 0) return void process.stdout.write(`no ${status ?? ''} approval requests\n`.replace('  ', ' '));
        process.stdout.write(formatTable(['ID', 'STATUS', 'GATE', 'AGENT', 'PROFILE', 'TOOL', 'REQUESTED', 'EXPIRES'], list.map(row)));
      }),
    );

  approvals
    .command('show <id>')
    .description('One request in full: tool, arguments, agent, profile, reason, decision')
    .option('--config <file>', 'config file')
    .action((id: string, options: { config?: string }) =>
      withStores(options.config, async ({ desk }) => void process.stdout.write(`${JSON.stringify(await desk.get(id), null, 2)}\n`)),
    );

  for (const verb of ['approve', 'reject'] as const) {
    const command = approvals
      .command(`${verb} <id>`)
      .description(verb === 'approve' ? 'Grant the request (a single-use grant for exactly its arguments)' : 'Refuse the request; the reason reaches the agent')
      .option('--config <file>', 'config file')
      .option('--by <name>', 'who decides (default: the OS user); never the requesting agent', nonBlank('--by', 'a name'));
    if (verb === 'reject') command.requiredOption('--reason <text>', 'why; the agent is told', nonBlank('--reason', 'a reason'));
    else command.option('--reason <text>', 'a note kept with the decision', nonBlank('--reason', 'a reason'));
    command.action((id: string, options: { config?: string; by?: string; reason?: string }) =>
      withStores(options.config, async ({ desk }) => {
        const decided = await desk.decide(id, { approved: verb === 'approve', by: options.by ?? defaultOperator(), reason: options.reason });
        process.stdout.write(`${decided.id} ${decided.status} by ${decided.decidedBy}${decided.grantExpiresAt ? ` (grant valid until ${decided.grantExpiresAt})` : ''}\n`);
      }),
    );
  }
}

function row(request: ApprovalRequest): string[] {
  return [request.id, request.status, request.gate, request.agent, request.profile, `${request.server}/${request.tool}`, request.requestedAt, request.expiresAt];
}

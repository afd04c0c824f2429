import type { Command } from 'commander';
import { ChainVerifier, type ChainProblem } from '../core/event-chain.js';
import type { CliContext } from './context.js';
import { withOperatorStores } from './governance-context.js';

/** `gatehouse audit verify`: walks the event chain and names the first event that does not fit. */
export function registerAudit(program: Command, context: CliContext): void {
  const audit = program.command('audit').description('Check the tamper-evident audit trail');
  audit
    .command('verify')
    .description('Recompute the hash chain of every event; exit 1 at the first modified, deleted, inserted or reordered event')
    .option('--config <file>', 'config file')
    .option('--json', 'print the report as JSON')
    .action((options: { config?: string; json?: boolean }) => {
      return withOperatorStores(context, options.config, async ({ stores }) => {
      const verifier = new ChainVerifier();
      for await (const event of stores.events.chain()) if (!verifier.next(event)) break;
      const report = verifier.report();
      if (options.json) process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
      else if (report.problem) process.stdout.write(`audit chain BROKEN at event ${report.problem.seq}: ${describe(report.problem)} (${report.checked} events verified before it)\n`);
      else {
        const unchained = report.unchained > 0 ? `; ${report.unchained} older events predate the chain` : '';
        process.stdout.write(`audit chain OK: ${report.checked} events, last ${report.lastSeq ?? '-'} ${report.lastHash?.slice(0, 16) ?? ''}${unchained}\n`);
      }
      if (report.problem) process.exitCode = 1;
      });
    });
}

function describe(problem: ChainProblem): string {
  switch (problem.kind) {
    case 'modified':
      return 'its content does not match its hash (the event was modified)';
    case 'broken-link':
      return 'it does not link to the event before it (an event was deleted, inserted or reordered)';
    case 'gap':
      return `expected event ${problem.expectedSeq} here (events were deleted)`;
    case 'unhashed':
      return 'it has no hash inside the chain (inserted by something other than Gatehouse)';
  }
}

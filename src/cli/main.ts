#!/usr/bin/env node
import { Command, CommanderError } from 'commander';
import { isGatehouseError } from '../core/errors.js';
import { cliContext } from './context.js';
import { registerServe } from './serve.js';
import { registerConnect } from './connect.js';
import { registerConfig } from './config-check.js';
import { registerImport } from './import.js';
import { registerIndex } from './index-command.js';
import { registerApprovals } from './approvals.js';
import { registerReview } from './review.js';
import { registerTools } from './tools.js';
import { registerDemoServer } from './demo-server.js';
import { registerAudit } from './audit.js';
import { registerPipeline } from './pipeline.js';
import { registerServers } from './servers.js';
import { registerRuns } from './runs.js';
import { registerCommits } from './commits.js';
import { registerDlq } from './dlq.js';
import { endOnOutputErrors } from './output-errors.js';

const program = new Command('gatehouse')
  .description('A governed gateway between AI agents and the MCP servers they act on')
  .version('0.1.0')
  .showHelpAfterError()
  // Commander would exit at once after --help, --version or a usage error, before a failed write of
  // its output is reported (help to a full disk exited 0); it throws instead, and the exit code is set below.
  .exitOverride();

const context = cliContext();
const commands = [
  registerServe,
  registerRuns,
  registerConnect,
  registerConfig,
  registerImport,
  registerIndex,
  registerTools,
  registerApprovals,
  registerCommits,
  registerDlq,
  registerReview,
  registerAudit,
  registerServers,
  registerDemoServer,
  registerPipeline,
];
for (const register of commands) {
  register(program, context);
}
endOnOutputErrors(program);

program.parseAsync(process.argv).catch((error: unknown) => {
  if (error instanceof CommanderError) {
    // Commander has said what it had to (help, version, or the usage error on stderr).
    process.exitCode = error.exitCode;
    return;
  }
  process.stderr.write(isGatehouseError(error) ? `error ${error.code}: ${error.message}\n` : `error: ${(error as Error)?.stack ?? String(error)}\n`);
  process.exitCode = 1;
});

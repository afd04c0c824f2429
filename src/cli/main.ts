#!/usr/bin/env node
import { Command } from 'commander';
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
  .showHelpAfterError();

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
  process.stderr.write(isGatehouseError(error) ? `error ${error.code}: ${error.message}\n` : `error: ${(error as Error)?.stack ?? String(error)}\n`);
  process.exitCode = 1;
});

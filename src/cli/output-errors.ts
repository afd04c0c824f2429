import type { Command } from 'commander';

/** Commands whose stdout is not a report: an MCP session (connect, demo-server) or a long-running gateway (serve). */
const NOT_REPORTS = new Set(['serve', 'connect', 'demo-server']);
/** Commands that change state and must reach their end (a pipeline run publishes, closes its database) though nobody reads. */
const FINISH_WITHOUT_READER = new Set(['pipeline']);

/**
 * A command's output that cannot be written ends it plainly, instead of with an unhandled
 * 'error' event and a stack trace: a reader that stopped reading (EPIPE: `| head`) is not a
 * failure, so the command ends quietly with the exit code it had (a pipeline command drops the
 * rest of its output and goes on to its normal end); any other write error
 * (ENOSPC: a full disk, EIO) is one line on stderr and exit 1. Commands whose stdout is a
 * session or a gateway's handle their own output and are left alone.
 */
export function endOnOutputErrors(program: Command): void {
  process.stdout.on('error', onStdoutError);
  // Nothing is left to say that stderr failed; the exit code still does, unless the reader just left.
  process.stderr.on('error', onStderrError);
  program.hook('preAction', (_program, action) => {
    const name = topLevelName(action);
    if (NOT_REPORTS.has(name)) {
      process.stdout.off('error', onStdoutError);
      process.stderr.off('error', onStderrError);
    }
    if (FINISH_WITHOUT_READER.has(name)) finishWithoutReader = true;
  });
}

let finishWithoutReader = false;

function onStdoutError(error: NodeJS.ErrnoException): void {
  if (isGoneReader(error)) {
    if (finishWithoutReader) return;
    process.exit();
  }
  process.stderr.write(`error: cannot write the output: ${error.message}\n`);
  process.exit(1);
}

function onStderrError(error: NodeJS.ErrnoException): void {
  if (!isGoneReader(error)) process.exitCode = 1;
}

/** The reader closed the pipe; once it has, later writes fail with ERR_STREAM_DESTROYED. */
function isGoneReader(error: NodeJS.ErrnoException): boolean {
  return error.code === 'EPIPE' || error.code === 'ERR_STREAM_DESTROYED';
}

function topLevelName(command: Command): string {
  let top = command;
  while (top.parent?.parent) top = top.parent;
  return top.name();
}

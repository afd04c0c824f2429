import type { Command } from 'commander';
import type { CliContext } from './context.js';

export function registerImport(program: Command, _context: CliContext): void {
  program.command('import').description('Import configuration from another client');
}

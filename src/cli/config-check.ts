import type { Command } from 'commander';
import type { CliContext } from './context.js';

/**
 * `gatehouse config check [FILE]`: exit 0 when valid; otherwise the error (printed by main)
 * lists every problem with the path of its key, and the exit code is 1.
 */
export function registerConfig(program: Command, context: CliContext): void {
  const config = program.command('config').description('Work with configuration files');
  config
    .command('check [file]')
    .description('Validate a config file; print every problem with the path of the bad key')
    .option('--config <file>', 'config file (default ./gatehouse.yaml, else examples/gatehouse.yaml)')
    .action((file: string | undefined, options: { config?: string }) => {
      const loaded = context.loadConfig(file ?? options.config);
      const count = (record: object) => Object.keys(record).length;
      process.stdout.write(
        `${loaded.configPath}: valid (${count(loaded.servers)} servers, ${count(loaded.profiles)} profiles, ${count(loaded.agents)} agents)\n`,
      );
    });
}

import { closeSync, existsSync, fchmodSync, openSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { Command } from 'commander';
import { GatehouseError } from '../core/errors.js';
import { importClaudeConfig, renderImportYaml, type ClaudeImport } from '../config/import-claude.js';
import type { CliContext } from './context.js';

interface ClaudeOptions {
  out?: string;
  /** Same as --out: every command takes --config, and for an import it names the config to write. */
  config?: string;
  force?: boolean;
  inlineSecrets?: boolean;
}

/**
 * `gatehouse import claude FILE`: reads a Claude Desktop / Claude Code MCP config and prints
 * (or writes) the equivalent gatehouse.yaml. Warnings and the variables to set go to stderr,
 * so that stdout is exactly the YAML.
 */
export function registerImport(program: Command, _context: CliContext): void {
  const command = program.command('import').description('Import configuration from another client');
  command
    .command('claude <file>')
    .description('Convert claude_desktop_config.json, a Claude Code .mcp.json or ~/.claude.json into a Gatehouse config')
    .option('--out <file>', 'write the config to this file instead of stdout')
    .option('--config <file>', 'the same as --out: the Gatehouse config file to write')
    .option('--force', 'overwrite the --out file if it exists')
    .option('--inline-secrets', 'keep credential-looking env and header values instead of turning them into ${VAR} references')
    .action((file: string, options: ClaudeOptions) => {
      if (options.out !== undefined && options.config !== undefined && options.out !== options.config) {
        throw new GatehouseError('GH_IMPORT_INVALID', '--out and --config name different files; give one of them');
      }
      const target = options.out ?? options.config;
      const out = target === undefined ? undefined : path.resolve(target);
      if (out && existsSync(out) && !options.force) throw outputExists(out);

      const result = importClaudeConfig(readJson(file), {
        source: file,
        inlineSecrets: options.inlineSecrets === true,
        configPath: out ?? path.resolve('gatehouse.yaml'),
      });
      const yaml = renderImportYaml(result, path.resolve(file));
      for (const warning of result.warnings) process.stderr.write(`warning: ${warning.path}: ${warning.message}\n`);

      if (out) {
        try {
          writeOut(out, yaml, options);
        } catch (error) {
          // Created by someone else since the check above: still not ours to overwrite.
          if ((error as NodeJS.ErrnoException).code === 'EEXIST') throw outputExists(out);
          return fail(`cannot write ${out}: ${(error as Error).message}`);
        }
      } else {
        process.stdout.write(yaml);
      }
      process.stderr.write(summary(result, out));
    });
}

function writeOut(out: string, yaml: string, options: ClaudeOptions): void {
  const fd = openSync(out, options.force ? 'w' : 'wx', 0o644);
  try {
    // Inlined secrets must not be readable by others, also when --force reuses an existing file.
    if (options.inlineSecrets) fchmodSync(fd, 0o600);
    writeFileSync(fd, yaml);
  } finally {
    closeSync(fd);
  }
}

function readJson(file: string): unknown {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    throw new GatehouseError('GH_IMPORT_INVALID', `${file}: cannot read it: ${(error as Error).message}`, { file });
  }
  try {
    return JSON.parse(text.replace(/^\uFEFF/, ''));
  } catch (error) {
    throw new GatehouseError('GH_IMPORT_INVALID', `${file}: not JSON: ${(error as Error).message}`, { file });
  }
}

function summary(result: ClaudeImport, out: string | undefined): string {
  const lines: string[] = [];
  if (result.envToSet.length > 0) {
    const width = Math.max(...result.envToSet.map((env) => env.name.length));
    lines.push('Set these environment variables before starting Gatehouse:');
    for (const env of result.envToSet) {
      const why = env.reason === 'extracted' ? 'the value that was in' : 'referenced by';
      lines.push(`  ${env.name.padEnd(width)}  ${why} ${env.paths.join(', ')}`);
    }
  }
  const count = Object.keys(result.config.servers).length;
  if (out) lines.push(`Wrote ${out} (${count} server${count === 1 ? '' : 's'}); check it with: gatehouse config check ${out}`);
  return lines.length > 0 ? `${lines.join('\n')}\n` : '';
}

function outputExists(out: string): GatehouseError {
  return new GatehouseError('GH_OUTPUT_EXISTS', `${out} already exists; pass --force to overwrite it`, { file: out });
}

/** A write failure other than GH_OUTPUT_EXISTS: printed like main prints errors, exit code 1. */
function fail(message: string): void {
  process.stderr.write(`error: ${message}\n`);
  process.exitCode = 1;
}

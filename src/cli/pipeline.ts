import path from 'node:path';
import type { Command } from 'commander';
import { generate } from '../pipeline/generate/generate.js';
import type { CliContext } from './context.js';
import { formatTable } from './table.js';

const integer = (value: string): number => {
  const parsed = Number(value.replace(/_/g, ''));
  if (!Number.isSafeInteger(parsed) || parsed < 0) throw new Error(`not a whole number: ${value}`);
  return parsed;
};

/** `gatehouse pipeline …`: the data pipeline (generate, run, status, replay, quarantine). */
export function registerPipeline(program: Command, _context: CliContext): void {
  const pipeline = program.command('pipeline').description('The layered data pipeline: Raw → Stage → Std → Enrich → Semantic → Final, promoted through gates A–E');
  pipeline
    .command('generate')
    .description('Write a deterministic synthetic California K-12 data set (cdenroll, pubschls, CAASPP research + entities files) with faults at known rates and a manifest.json')
    .requiredOption('--rows <n>', 'about this many fact rows (enrollment + CAASPP); the manifest has the exact count', integer)
    .option('--seed <n>', 'random seed (the same seed writes the same bytes)', integer, 1)
    .requiredOption('--out <dir>', 'output folder')
    .option('--fault-scale <x>', 'multiply every default fault rate (0 = no faults)', Number, 1)
    .option('--years <n>', 'school years (default: 2 to 12, from the row count)', integer)
    .action((options: { rows: number; seed: number; out: string; faultScale: number; years?: number }) => {
      const started = Date.now();
      const manifest = generate({
        rows: options.rows,
        seed: options.seed,
        outDir: path.resolve(options.out),
        faultScale: options.faultScale,
        ...(options.years ? { years: options.years } : {}),
        onFile: (file) => process.stderr.write(`  wrote ${file.file}: ${file.rows.toLocaleString('en-US')} rows, ${(file.bytes / 1e6).toFixed(1)} MB (${((Date.now() - started) / 1000).toFixed(1)} s)\n`),
      });
      const seconds = (Date.now() - started) / 1000;
      process.stdout.write(
        `generated ${manifest.counts.rows.toLocaleString('en-US')} rows (${manifest.counts.factRows.toLocaleString('en-US')} fact rows) in ${manifest.files.length} files, ` +
          `${manifest.counts.schools} schools in ${manifest.counts.districts} districts, years ${manifest.years.join(', ')}, ${seconds.toFixed(1)} s\n\n`,
      );
      const rows = Object.entries(manifest.faults).map(([kind, record]) => [kind, String(record.count), Object.entries(record.byFile).map(([file, count]) => `${file}:${count}`).join(' ')]);
      process.stdout.write(formatTable(['fault', 'injected', 'by file'], rows));
    });
}

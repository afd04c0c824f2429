import path from 'node:path';
import type { Command } from 'commander';
import { GatehouseError, isGatehouseError } from '../core/errors.js';
import { loadDefinition, requireKnownCheck, type LoadedDefinition } from '../pipeline/definition/load.js';
import { LAYERS, type Layer } from '../pipeline/definition/schema.js';
import type { PipelineEngine, Row } from '../pipeline/engines/engine.js';
import { DEFAULT_DUCKDB_MEMORY_LIMIT, ENGINES, MAX_DUCKDB_THREADS, MIN_DUCKDB_MEMORY_LIMIT, openEngine, type EngineChoice } from '../pipeline/engines/open.js';
import { LAST_GENERATED_YEAR } from '../pipeline/generate/universe.js';
import { listQuarantine, pipelineStatus, previewRelease, releaseQuarantined } from '../pipeline/run/inspect.js';
import type { RunReport } from '../pipeline/run/run.js';
import type { CliContext } from './context.js';
import { formatReplayComparison, formatRunSummary } from './pipeline-report.js';
import { ProgressBar } from './progress-bar.js';
import { formatTable } from './table.js';
import { districtKey, memorySize, nonBlank, nonNegativeNumber, oneOf, wholeNumber, wholeNumbers } from './option-values.js';

// The generator and the run (with iconv-lite's code pages) are imported when a command uses them,
// so that every other gatehouse command, the gateway's start included, does not load them.
const loadGenerator = () => import('../pipeline/generate/generate.js');
const loadRunner = () => import('../pipeline/run/run.js');

const REPLAY_LAYERS = LAYERS.filter((layer): layer is Exclude<Layer, 'final'> => layer !== 'final');

interface EngineOptions {
  definition: string;
  db?: string;
  engine: EngineChoice['engine'];
  pgUrl?: string;
  threads?: number;
  memoryLimit?: string;
}

/** The options every command that opens the pipeline's database takes. */
function engineOptions(command: Command): Command {
  return command
    .option('--definition <file>', 'pipeline definition (YAML)', 'pipeline.yaml')
    .option('--engine <name>', 'duckdb (embedded, default) or postgres', oneOf('--engine', ENGINES), 'duckdb')
    .option('--db <file>', 'DuckDB database file (default .gatehouse/pipeline/<name>.duckdb)')
    .option('--pg-url <url>', 'PostgreSQL connection URL (default $GATEHOUSE_PIPELINE_PG_URL)')
    .option('--threads <n>', `DuckDB worker threads, 1 to ${MAX_DUCKDB_THREADS} (default: all cores)`, wholeNumber('--threads', 1, MAX_DUCKDB_THREADS))
    .option('--memory-limit <size>', `DuckDB memory limit, at least ${MIN_DUCKDB_MEMORY_LIMIT} (default ${DEFAULT_DUCKDB_MEMORY_LIMIT}; it spills to <db>.tmp beyond)`, memorySize('--memory-limit', MIN_DUCKDB_MEMORY_LIMIT));
}

/** The gates that quarantine rows (gate E refuses a publish, it holds no row back). */
const QUARANTINE_GATES = ['A', 'B', 'C', 'D'] as const;

/** Quarantined rows (as listQuarantine and previewRelease give them) as a table. */
const quarantineTable = (rows: Row[]): string =>
  formatTable(['id', 'gate', 'rule', 'file', 'line', 'partition', 'raw text'], rows.map((row) => [String(row.quarantine_id), String(row.gate), String(row.rule), String(row.file).slice(0, 12), String(row.line), `${row.district_key}:${row.year}`, String(row.raw_text ?? '').slice(0, 80)]));

/**
 * Opens the pipeline's database for `use`. `existing`: the command reads what runs left (a DuckDB
 * file that does not exist is refused, not created). `check` runs before anything is opened.
 */
async function withPipeline<T>(
  context: CliContext,
  options: EngineOptions,
  use: (engine: PipelineEngine, loaded: LoadedDefinition) => Promise<T>,
  { existing = true, check }: { existing?: boolean; check?: (loaded: LoadedDefinition) => void } = {},
): Promise<T> {
  const loaded = loadDefinition(path.resolve(options.definition));
  check?.(loaded);
  const engine = await openEngine({
    engine: options.engine,
    existing,
    database: path.resolve(options.db ?? `.gatehouse/pipeline/${loaded.definition.name}.duckdb`),
    url: options.pgUrl ?? context.env.GATEHOUSE_PIPELINE_PG_URL ?? '',
    ...(options.threads ? { threads: options.threads } : {}),
    ...(options.memoryLimit ? { memoryLimit: options.memoryLimit } : {}),
    // Only a terminal shows the bar (see ProgressBar.enabled); tracking costs the engine CPU.
    trackProgress: process.stderr.isTTY === true,
  });
  try {
    return await use(engine, loaded);
  } finally {
    await engine.close();
  }
}

const progress = (message: string) => process.stderr.write(`${message}\n`);

function finallyStop<T>(bar: ProgressBar, work: () => T): T {
  try {
    return work();
  } finally {
    bar.stop();
  }
}

/** Runs a pipeline run or replay with a progress bar of the engine's statement on a terminal (lines only elsewhere). */
async function withProgressBar<T>(engine: PipelineEngine, use: (bar: { progress: (message: string) => void; step: (label: string) => void }) => Promise<T>): Promise<T> {
  const bar = new ProgressBar(process.stderr, () => engine.progress());
  try {
    return await use({ progress: bar.line, step: bar.start });
  } finally {
    bar.stop();
  }
}

const SIGNAL_EXIT_CODES = { SIGINT: 130, SIGTERM: 143 } as const;
type StopSignal = keyof typeof SIGNAL_EXIT_CODES;

/**
 * Runs a run or replay so that SIGINT or SIGTERM stops it on the record: the engine stops its statement (DuckDB
 * interrupts it, PostgreSQL cancels it in the server), the run is marked interrupted, the database is closed, and the
 * command exits 130 or 143. An engine that cannot stop a statement exits at once, and so does a second signal: the next
 * run or status marks the run interrupted.
 */
async function stoppable(engine: PipelineEngine, work: () => Promise<unknown>): Promise<void> {
  let received: StopSignal | undefined;
  const onSignal = (signal: StopSignal) => {
    if (received !== undefined || !engine.interrupt(signal)) process.exit(SIGNAL_EXIT_CODES[signal]);
    received = signal;
  };
  const signals = Object.keys(SIGNAL_EXIT_CODES) as StopSignal[];
  for (const signal of signals) process.on(signal, onSignal);
  try {
    await work();
  } catch (error) {
    if (received === undefined) throw error;
    process.stderr.write(isGatehouseError(error) ? `error ${error.code}: ${error.message}\n` : `error: ${(error as Error)?.message ?? String(error)}\n`);
  } finally {
    for (const signal of signals) process.off(signal, onSignal);
    if (received !== undefined) process.exitCode = SIGNAL_EXIT_CODES[received];
  }
}

function printReport(report: RunReport, json: boolean | undefined): void {
  process.stdout.write(json ? `${JSON.stringify(report, null, 2)}\n` : formatRunSummary(report));
}

/** Prints the report a refused run carries before the error itself is reported. */
async function reporting(json: boolean | undefined, run: () => Promise<RunReport>): Promise<RunReport> {
  try {
    const report = await run();
    printReport(report, json);
    return report;
  } catch (error) {
    if (error instanceof GatehouseError && error.code === 'GH_PIPELINE_CONTRACT' && error.data.report) printReport(error.data.report as RunReport, json);
    throw error;
  }
}

/** `gatehouse pipeline …`: the data pipeline (generate, run, status, replay, quarantine). */
export function registerPipeline(program: Command, context: CliContext): void {
  const pipeline = program.command('pipeline').description('The layered data pipeline: Raw → Stage → Std → Enrich → Semantic → Final, promoted through gates A–E');
  pipeline
    .command('generate')
    .description('Write a deterministic synthetic California K-12 data set (cdenroll, pubschls, CAASPP research + entities files) with faults at known rates and a manifest.json')
    .requiredOption('--rows <n>', 'about this many fact rows (enrollment + CAASPP); the manifest has the exact count', wholeNumber('--rows', 1))
    .option('--seed <n>', 'random seed (the same seed writes the same bytes)', wholeNumber('--seed'), 1)
    .requiredOption('--out <dir>', 'output folder')
    .option('--fault-scale <x>', 'multiply every default fault rate (0 = no faults)', nonNegativeNumber('--fault-scale'), 1)
    .option('--years <n>', `school years, the last one ${LAST_GENERATED_YEAR} (default: 2 to 12, from the row count)`, wholeNumber('--years', 1, LAST_GENERATED_YEAR - 1999))
    .action(async (options: { rows: number; seed: number; out: string; faultScale: number; years?: number }) => {
      const { generate } = await loadGenerator();
      const started = Date.now();
      let lines = 0;
      const bar = new ProgressBar(process.stderr, () => (100 * lines) / Math.max(1, options.rows));
      bar.start('writing files');
      const manifest = finallyStop(bar, () => generate({
        rows: options.rows,
        seed: options.seed,
        outDir: path.resolve(options.out),
        faultScale: options.faultScale,
        ...(options.years ? { years: options.years } : {}),
        onLines: (soFar) => {
          lines = soFar;
          bar.tick();
        },
        onFile: (file) => bar.line(`  wrote ${file.file}: ${file.rows.toLocaleString('en-US')} rows, ${(file.bytes / 1e6).toFixed(1)} MB (${((Date.now() - started) / 1000).toFixed(1)} s)`),
      }));
      const seconds = (Date.now() - started) / 1000;
      process.stdout.write(
        `generated ${manifest.counts.rows.toLocaleString('en-US')} rows (${manifest.counts.factRows.toLocaleString('en-US')} fact rows) in ${manifest.files.length} files, ` +
          `${manifest.counts.schools} schools in ${manifest.counts.districts} districts, years ${manifest.years.join(', ')}, ${seconds.toFixed(1)} s\n\n`,
      );
      const rows = Object.entries(manifest.faults).map(([kind, record]) => [kind, String(record.count), Object.entries(record.byFile).map(([file, count]) => `${file}:${count}`).join(' ')]);
      process.stdout.write(formatTable(['fault', 'injected', 'by file'], rows));
    });

  engineOptions(
    pipeline
      .command('run')
      .description('Load new files into Raw (a file already loaded, by hash, is skipped), then run every layer and gate and publish to Final')
      .requiredOption('--data <dir>', 'folder holding the source files'),
  )
    .option('--dry-run', 'run every gate and print what would be promoted; write nothing to Final')
    .option('--json', 'print the run report as JSON')
    .action(async (options: EngineOptions & { data: string; dryRun?: boolean; json?: boolean }) => {
      const [{ runPipeline }, { sourceFiles }] = await Promise.all([loadRunner(), import('../pipeline/run/ingest.js')]);
      const dataDir = path.resolve(options.data);
      await withPipeline(
        context,
        options,
        (engine, loaded) => stoppable(engine, () => withProgressBar(engine, (bar) => reporting(options.json, () => runPipeline(engine, loaded, { dataDir, dryRun: options.dryRun ?? false, ...bar })))),
        // A wrong --data is refused before a database is created for it.
        { existing: false, check: (loaded) => void sourceFiles(loaded.definition, dataDir) },
      );
    });

  engineOptions(
    pipeline
      .command('replay')
      .description('Rebuild every layer after --from from the tables it holds, re-run the gates, and compare the Final tables\' content hashes with those before')
      .requiredOption('--from <layer>', `layer to start from: ${REPLAY_LAYERS.join(', ')}`, oneOf('--from', REPLAY_LAYERS)),
  )
    .option('--dry-run', 'write nothing to Final')
    .option('--json', 'print the run report as JSON')
    .action(async (options: EngineOptions & { from: Exclude<Layer, 'final'>; dryRun?: boolean; json?: boolean }) => {
      const { runPipeline } = await loadRunner();
      await withPipeline(context, options, (engine, loaded) =>
        stoppable(engine, async () => {
          const report = await withProgressBar(engine, (bar) => reporting(options.json, () => runPipeline(engine, loaded, { from: options.from, dryRun: options.dryRun ?? false, ...bar })));
          if (!options.json && report.status === 'published') process.stdout.write(formatReplayComparison(report));
        }),
      );
    });

  engineOptions(pipeline.command('status').description('The last runs, rows per layer, gate counts, held partitions and failing checks'))
    .option('--run <id>', 'show this run (default: the last)', wholeNumber('--run', 1))
    .option('--json', 'print as JSON')
    .action(async (options: EngineOptions & { run?: number; json?: boolean }) => {
      await withPipeline(context, options, async (engine) => {
        const status = await pipelineStatus(engine, options.run);
        if (options.json) {
          process.stdout.write(`${JSON.stringify(status, null, 2)}\n`);
          return;
        }
        process.stdout.write(formatTable(['run', 'mode', 'from', 'status', 'started', 'finished'], status.runs.map((run) => [String(run.run_id), String(run.mode) + (run.dry_run ? ' (dry)' : ''), String(run.from_layer), String(run.status), String(run.started_at), String(run.finished_at ?? '-')])));
        for (const run of status.runs.filter((entry) => entry.status === 'interrupted')) process.stdout.write(`run ${run.run_id} ${run.error}\n`);
        if (!status.run) return;
        process.stdout.write(`\nrun ${status.run}: rows per layer\n`);
        process.stdout.write(formatTable(['layer', 'table', 'rows'], status.layers.map((row) => [String(row.layer), String(row.table_name), Number(row.rows).toLocaleString('en-US')])));
        process.stdout.write('\ngates\n');
        process.stdout.write(formatTable(['gate', 'table', 'in', 'promoted', 'quarantined'], status.gates.map((row) => [String(row.gate), String(row.table_name), String(row.rows_in), String(row.promoted), String(row.quarantined)])));
        process.stdout.write('\nchecks that did not pass everywhere\n');
        process.stdout.write(formatTable(['gate', 'check', 'status', 'partitions', 'rows flagged'], status.failing.map((row) => [String(row.gate), String(row.check_id), String(row.status), String(row.partitions), String(row.rows_flagged)])));
        process.stdout.write(`\n${status.checkCount} checks, ${status.ledgerRows} ledger rows; ${status.held.length} partition(s) held; ${status.quarantined} row(s) in quarantine\n`);
      });
    });

  const quarantine = pipeline.command('quarantine').description('List quarantined rows (with rule, file hash, line and raw text) or release them');
  engineOptions(quarantine.command('list').description('List quarantined rows'))
    .option('--rule <id>', 'only this rule')
    .option('--gate <letter>', 'only this gate: A, B, C or D', oneOf('--gate', QUARANTINE_GATES))
    .option('--district <key>', 'only this district key (cc + ddddd)', districtKey('--district'))
    .option('--limit <n>', 'at most this many rows', wholeNumber('--limit', 1), 50)
    .option('--json', 'print as JSON')
    .action(async (options: EngineOptions & { rule?: string; gate?: string; district?: string; limit: number; json?: boolean }) => {
      await withPipeline(context, options, async (engine) => {
        const listing = await listQuarantine(engine, { rule: options.rule, gate: options.gate, district: options.district, limit: options.limit });
        if (options.json) {
          process.stdout.write(`${JSON.stringify(listing, null, 2)}\n`);
          return;
        }
        process.stdout.write(formatTable(['rule', 'rows'], listing.byRule.map((row) => [String(row.rule), String(row.rows)])));
        process.stdout.write('\n');
        process.stdout.write(quarantineTable(listing.rows));
        process.stdout.write(`\n${listing.total} row(s) quarantined${listing.rows.length < listing.total ? `, ${listing.rows.length} shown` : ''}\n`);
      }, { check: (loaded) => requireKnownCheck(loaded.definition, options.rule) });
    });
  engineOptions(quarantine.command('release').description('Release quarantined rows (by id, or by rule and district) or a held partition; takes effect at the next run or replay'))
    .option('--id <n...>', 'quarantine ids', wholeNumbers('--id', 1))
    .option('--rule <id>', 'every row quarantined by this rule (with --district: only there)')
    .option('--district <key>', 'a district key (cc + ddddd); with --year and --rule a held partition', districtKey('--district'))
    .option('--year <n>', 'the year of the partition', wholeNumber('--year'))
    .requiredOption('--reason <text>', 'why (kept with the release)', nonBlank('--reason', 'a reason'))
    .option('--by <name>', 'who releases', nonBlank('--by', 'a name'), process.env.USER ?? 'operator')
    .option('--dry-run', 'print what would be released (and a sample of the rows); record nothing')
    .action(async (options: EngineOptions & { id?: number[]; rule?: string; district?: string; year?: number; reason: string; by: string; dryRun?: boolean }) => {
      await withPipeline(context, options, async (engine) => {
        const request = { ids: options.id, rule: options.rule, district: options.district, year: options.year, reason: options.reason, by: options.by };
        if (options.dryRun) {
          const preview = await previewRelease(engine, request);
          process.stdout.write(quarantineTable(preview.sample));
          process.stdout.write(`\nDRY RUN: would release ${preview.rows} quarantined row(s) and ${preview.partitions} held partition(s), to pass at the next run or replay (--from ${preview.fromLayer}); nothing recorded\n`);
          return;
        }
        const released = await releaseQuarantined(engine, request);
        process.stdout.write(`released ${released.rows} quarantined row(s) and ${released.partitions} held partition(s); they pass at the next run or replay (gatehouse pipeline replay --from ${released.fromLayer})\n`);
      }, { check: (loaded) => requireKnownCheck(loaded.definition, options.rule) });
    });
}

/**
 * One run of the pipeline: Raw (new files only) → gate A → Stage → gate B → Std → gate C → Enrich
 * → gate D → Semantic → gate E → Final. A replay starts at a given layer, from the tables that layer
 * already holds, and must give byte-identical Final tables (their content hashes are compared).
 */
import { GatehouseError, isGatehouseError } from '../../core/errors.js';
import { GATE_INPUT, type Gate, type Layer } from '../definition/schema.js';
import type { LoadedDefinition } from '../definition/load.js';
import { literal, type PipelineEngine } from '../engines/engine.js';
import { now, seconds, type GateCount, type LayerCount, type RunContext } from './context.js';
import { evaluateGate, gateTables } from './gate.js';
import { ingest, sourceFiles, type IngestedFile } from './ingest.js';
import { closeInterruptedRuns, processOwner } from './interrupted.js';
import { buildLayer, writeReferenceTables } from './layers.js';
import { ensureOpsTables, requireOpsTables } from './ops-tables.js';
import { finalHashes, publish, type ContractResult } from './publish.js';

export interface RunOptions {
  /** Folder of the source files (a run); omitted for a replay. */
  dataDir?: string;
  /** Replay from this layer, reusing its tables. */
  from?: Exclude<Layer, 'final'>;
  dryRun?: boolean;
  progress?: (message: string) => void;
  /** Called as each long step (a file's load, a table's build, a gate on a table, a publish) starts. */
  step?: (label: string) => void;
}

export interface RunReport {
  runId: number;
  mode: 'run' | 'replay';
  from: Layer;
  dryRun: boolean;
  status: 'published' | 'dry-run' | 'refused';
  files: IngestedFile[];
  layers: LayerCount[];
  gates: GateCount[];
  held: Array<{ gate: string; district_key: string; year: number; rule: string }>;
  contract: ContractResult[];
  /** Content hashes of the Final tables before and after this run. */
  finalBefore: Record<string, string>;
  finalAfter: Record<string, string>;
  checks: Array<{ gate: string; check_id: string; status: string; partitions: number; rows_flagged: number }>;
  seconds: number;
}

const NEXT_LAYER: Record<Exclude<Gate, 'E'>, Exclude<Layer, 'raw' | 'final'>> = { A: 'stage', B: 'std', C: 'enrich', D: 'semantic' };
const GATE_OF_LAYER: Record<Exclude<Layer, 'final'>, Gate> = { raw: 'A', stage: 'B', std: 'C', enrich: 'D', semantic: 'E' };

export async function runPipeline(engine: PipelineEngine, loaded: LoadedDefinition, options: RunOptions): Promise<RunReport> {
  const started = Date.now();
  const progress = options.progress ?? (() => undefined);
  const mode = options.dataDir ? 'run' : 'replay';
  const from: Exclude<Layer, 'final'> = options.from ?? 'raw';
  const dataFiles = options.dataDir ? sourceFiles(loaded.definition, options.dataDir) : undefined;
  // A replay needs an earlier run: a database none has written to (on PostgreSQL, maybe the wrong
  // one) is refused before anything is created in it.
  await (mode === 'replay' ? requireOpsTables(engine) : ensureOpsTables(engine));
  for (const run of await closeInterruptedRuns(engine)) progress(`run ${run.runId} ${run.message}`);
  const leftovers = engine.removeLeftoverScratch();
  if (leftovers.length > 0) progress(`removed the working copies a stopped run left: ${leftovers.join(', ')}`);
  const [next] = await engine.query('SELECT coalesce(max(run_id), 0) + 1 AS id FROM ops.runs');
  const runId = Number(next!.id);
  const context: RunContext = { engine, definition: loaded.definition, runId, dryRun: options.dryRun ?? false, progress, step: options.step ?? (() => undefined) };
  await engine.exec(
    `INSERT INTO ops.runs (run_id, mode, from_layer, dry_run, started_at, status, definition_hash, owner)
     VALUES (${runId}, ${literal(mode)}, ${literal(from)}, ${context.dryRun}, ${literal(now())}, 'running', ${literal(loaded.hash)}, ${literal(processOwner())})`,
  );
  progress(`run ${runId}: ${mode}${mode === 'replay' ? ` from ${from}` : ''}${context.dryRun ? ' (dry run)' : ''} on ${engine.description}`);
  try {
    const finalBefore = await finalHashes(context);
    await writeReferenceTables(context, from);
    const files = options.dataDir && dataFiles ? await ingest(context, options.dataDir, dataFiles) : [];
    const startGate = GATE_OF_LAYER[from];
    await requireLayer(context, startGate);
    const layers: LayerCount[] = [];
    const gates: GateCount[] = [];
    for (const gate of ['A', 'B', 'C', 'D'] as const) {
      if (gate < startGate) {
        await carryHolds(context, gate);
        continue;
      }
      const gateStarted = Date.now();
      progress(`gate ${gate} on ${GATE_INPUT[gate]}`);
      gates.push(...(await evaluateGate(context, gate)));
      progress(`  gate ${gate} done in ${seconds(gateStarted)}; building ${NEXT_LAYER[gate]}`);
      layers.push(...(await buildLayer(context, NEXT_LAYER[gate])));
    }
    progress('gate E on semantic (serving contracts)');
    const published = await publish(context);
    gates.push(...published.counts);
    const finalAfter = published.finalAfter ?? finalBefore;
    const status = published.refused ? 'refused' : context.dryRun ? 'dry-run' : 'published';
    // A publish marks its run published itself, in the transaction that writes Final.
    if (status !== 'published') await engine.exec(`UPDATE ops.runs SET finished_at = ${literal(now())}, status = ${literal(status)}, final_hashes = ${literal(JSON.stringify(finalAfter))} WHERE run_id = ${runId}`);
    await createDispositionsView(context);
    const held = (await engine.query(`SELECT gate, district_key, year, rule FROM ops.partitions WHERE run_id = ${runId} AND status = 'held' ORDER BY district_key, year`)) as RunReport['held'];
    const checks = (await engine.query(
      `SELECT gate, check_id, status, count(*) AS partitions, coalesce(sum(rows_flagged), 0) AS rows_flagged FROM ops.check_results WHERE run_id = ${runId} GROUP BY gate, check_id, status ORDER BY gate, check_id, status`,
    )) as RunReport['checks'];
    const report: RunReport = { runId, mode, from, dryRun: context.dryRun, status, files, layers, gates, held, contract: published.contract, finalBefore, finalAfter, checks, seconds: (Date.now() - started) / 1000 };
    if (published.refused) {
      const failures = published.contract.filter((result) => !result.ok).map((result) => `${result.table}: ${result.check} ${result.detail}`);
      throw new GatehouseError('GH_PIPELINE_CONTRACT', `gate E refused to publish: ${failures.join('; ')}`, { report });
    }
    return report;
  } catch (error) {
    // Stopped by a signal: before the publish committed, Final is as it was (the publish marks its run published itself).
    const interrupted = isGatehouseError(error, 'GH_PIPELINE_INTERRUPTED');
    const message = (error as Error)?.message ?? String(error);
    const failed = interrupted ? `interrupted: ${message}; Final was not changed by it` : message;
    await engine
      .exec(
        `UPDATE ops.runs SET finished_at = ${literal(now())}, status = CASE WHEN status = 'running' THEN ${literal(interrupted ? 'interrupted' : 'failed')} ELSE status END,
         error = CASE WHEN status = 'running' THEN ${literal(failed)} ELSE ${literal(message)} END WHERE run_id = ${runId}`,
      )
      .catch(() => undefined);
    throw error;
  }
}

/** A replay that starts after a gate keeps the partitions that gate held in the run that last evaluated it. */
async function carryHolds(context: RunContext, gate: Gate): Promise<void> {
  await context.engine.exec(
    `INSERT INTO ops.partitions SELECT ${context.runId}, gate, district_key, year, status, rule FROM ops.partitions
     WHERE gate = ${literal(gate)} AND run_id = (SELECT max(run_id) FROM ops.gate_counts WHERE gate = ${literal(gate)} AND run_id < ${context.runId})`,
  );
}

async function requireLayer(context: RunContext, gate: Gate): Promise<void> {
  const layer = GATE_INPUT[gate];
  const tables = gate === 'E' ? Object.keys(context.definition.layers.semantic) : gateTables(context, gate);
  for (const table of tables) {
    if (!(await context.engine.tableExists(`${layer}.${table}`))) {
      throw new GatehouseError('GH_PIPELINE_NOT_LOADED', `cannot start at ${layer}: ${layer}.${table} does not exist (run the pipeline on data first)`, { layer, table });
    }
  }
}

/** ops.dispositions: every raw row once, as pass or coerced (promoted to Semantic) or quarantined, with rule, file hash and line. */
async function createDispositionsView(context: RunContext): Promise<void> {
  const promoted = Object.keys(context.definition.layers.semantic).map(
    (table) =>
      `SELECT f.sha256 AS file_hash, f.source, s._file_id AS file_id, s._line AS line, CASE WHEN s._rules IS NULL THEN 'pass' ELSE 'coerced' END AS disposition, s._rules AS rule, ${literal(`semantic.${table}`)} AS location
       FROM semantic.${table} s JOIN ops.raw_files f ON f.file_id = s._file_id`,
  );
  const quarantined = `SELECT f.sha256, f.source, q.file_id, q.line, 'quarantined', q.rule, 'ops.quarantine' FROM ops.quarantine q JOIN ops.raw_files f ON f.file_id = q.file_id`;
  await context.engine.createView('ops.dispositions', [...promoted, quarantined].join(' UNION ALL '));
}

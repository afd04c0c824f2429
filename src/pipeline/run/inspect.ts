/** Reading the pipeline's state (status, quarantine) and releasing quarantined rows. */
import { GatehouseError } from '../../core/errors.js';
import { GATE_INPUT, type Gate, type Layer } from '../definition/schema.js';
import { literal, type PipelineEngine, type Row } from '../engines/engine.js';
import { now } from './context.js';
import { closeInterruptedRuns } from './interrupted.js';
import { requireOpsTables } from './ops-tables.js';

export interface PipelineStatus {
  runs: Row[];
  run: number | null;
  layers: Row[];
  gates: Row[];
  failing: Row[];
  held: Row[];
  quarantined: number;
  checkCount: number;
  ledgerRows: number;
}

export async function pipelineStatus(engine: PipelineEngine, runId?: number): Promise<PipelineStatus> {
  await requireOpsTables(engine);
  await closeInterruptedRuns(engine);
  const runs = await engine.query('SELECT run_id, mode, from_layer, dry_run, status, started_at, finished_at, error FROM ops.runs ORDER BY run_id DESC LIMIT 10');
  if (runId !== undefined) await requireRun(engine, runId);
  const run = runId ?? (runs[0] ? Number(runs[0].run_id) : null);
  if (run === null) return { runs, run, layers: [], gates: [], failing: [], held: [], quarantined: 0, checkCount: 0, ledgerRows: 0 };
  const raw = await engine.query(`SELECT 'raw' AS layer, source AS table_name, sum(rows) AS rows FROM ops.raw_files GROUP BY source ORDER BY source`);
  const layers = [...raw, ...(await engine.query(`SELECT layer, table_name, rows FROM ops.layer_counts WHERE run_id = ${run}`))];
  const gates = await engine.query(`SELECT gate, table_name, rows_in, promoted, quarantined FROM ops.gate_counts WHERE run_id = ${run} ORDER BY gate`);
  const failing = await engine.query(
    `SELECT gate, check_id, status, count(*) AS partitions, coalesce(sum(rows_flagged), 0) AS rows_flagged FROM ops.check_results
     WHERE run_id = ${run} AND status <> 'pass' GROUP BY gate, check_id, status ORDER BY gate, check_id`,
  );
  const held = await engine.query(`SELECT gate, district_key, year, rule FROM ops.partitions WHERE run_id = ${run} AND status = 'held' ORDER BY district_key, year`);
  const [totals] = await engine.query(
    `SELECT (SELECT count(*) FROM ops.quarantine) AS quarantined, (SELECT count(DISTINCT check_id) FROM ops.check_results WHERE run_id = ${run}) AS checks,
       (SELECT count(*) FROM ops.check_results WHERE run_id = ${run}) AS ledger`,
  );
  return { runs, run, layers, gates, failing, held, quarantined: Number(totals!.quarantined), checkCount: Number(totals!.checks), ledgerRows: Number(totals!.ledger) };
}

/** Refuses a run id ops.runs does not have, naming those it has (rather than report an empty run). */
async function requireRun(engine: PipelineEngine, runId: number): Promise<void> {
  const [known] = await engine.query(`SELECT count(*) AS n, min(run_id) AS first, max(run_id) AS last, count(*) FILTER (WHERE run_id = ${Number(runId)}) AS found FROM ops.runs`);
  if (Number(known!.found) > 0) return;
  const first = Number(known!.first);
  const last = Number(known!.last);
  const runs = Number(known!.n) === 0 ? 'no run yet' : first === last ? `run ${first} only` : `runs ${first}–${last}`;
  throw new GatehouseError('GH_INVALID_ARGUMENTS', `run ${runId} does not exist (${runs})`, { run: runId });
}

export interface QuarantineFilter {
  rule?: string | undefined;
  gate?: string | undefined;
  district?: string | undefined;
  limit?: number | undefined;
}

/** Quarantined rows as they are listed (alias q): id, gate, rule, file hash and path, line, partition, raw text. */
const QUARANTINE_ROWS = `SELECT q.quarantine_id, q.gate, q.layer, q.table_name, q.rule, f.sha256 AS file, f.path, q.line, q.district_key, q.year, q.raw_text
  FROM ops.quarantine q JOIN ops.raw_files f ON f.file_id = q.file_id`;

export async function listQuarantine(engine: PipelineEngine, filter: QuarantineFilter): Promise<{ total: number; byRule: Row[]; rows: Row[] }> {
  await requireOpsTables(engine);
  const where = ['1 = 1'];
  if (filter.rule) where.push(`q.rule = ${literal(filter.rule)}`);
  if (filter.gate) where.push(`q.gate = ${literal(filter.gate)}`);
  if (filter.district) where.push(`q.district_key = ${literal(filter.district)}`);
  const condition = where.join(' AND ');
  const [total] = await engine.query(`SELECT count(*) AS n FROM ops.quarantine q WHERE ${condition}`);
  const byRule = await engine.query(`SELECT q.rule, count(*) AS rows FROM ops.quarantine q WHERE ${condition} GROUP BY q.rule ORDER BY q.rule`);
  const rows = await engine.query(`${QUARANTINE_ROWS} WHERE ${condition} ORDER BY q.quarantine_id LIMIT ${filter.limit ?? 50}`);
  return { total: Number(total!.n), byRule, rows };
}

export interface ReleaseRequest {
  ids?: number[] | undefined;
  rule?: string | undefined;
  district?: string | undefined;
  year?: number | undefined;
  reason: string;
  by: string;
}

/** What a release records: rows released one by one, held partitions released whole, and the layer to replay from. */
export interface ReleaseResult {
  rows: number;
  partitions: number;
  fromLayer: Layer;
}

export interface ReleasePreview extends ReleaseResult {
  /** Up to 20 of the quarantined rows the release lets pass (those of a released partition included), as listQuarantine lists them. */
  sample: Row[];
}

/** The quarantined rows and held partitions a request names, chosen once for both the release and its preview. */
interface ReleaseSelection {
  /** The request as a condition on ops.quarantine q. */
  condition: string;
  rows: number;
  heldPartitions: Row[];
  fromLayer: Layer;
}

// Rows held only because their partition was held are released as that partition.
const IN_HELD_PARTITION = `EXISTS (SELECT 1 FROM ops.partitions p WHERE p.status = 'held' AND p.rule = q.rule AND p.district_key = q.district_key AND p.year = q.year)`;

/** A release recorded since the row or partition was quarantined: the next run or replay applies it. */
const ROW_RELEASED = 'EXISTS (SELECT 1 FROM ops.releases r WHERE r.rule = q.rule AND r.file_id = q.file_id AND r.line = q.line)';
const PARTITION_RELEASED = 'EXISTS (SELECT 1 FROM ops.releases r WHERE r.file_id IS NULL AND r.rule = q.rule AND r.district_key = q.district_key AND r.year = q.year)';

/** The rows released one by one (alias q). */
const releasedRows = (condition: string): string => `FROM ops.quarantine q WHERE ${condition} AND NOT ${IN_HELD_PARTITION} AND NOT ${ROW_RELEASED}`;

function releaseCondition(request: ReleaseRequest): string {
  const where: string[] = [];
  if (request.ids?.length) where.push(`q.quarantine_id IN (${request.ids.map(Number).join(', ')})`);
  if (request.rule) where.push(`q.rule = ${literal(request.rule)}`);
  if (request.district) where.push(`q.district_key = ${literal(request.district)}`);
  if (request.year !== undefined) where.push(`q.year = ${Number(request.year)}`);
  if (where.length === 0) throw new GatehouseError('GH_QUARANTINE_UNKNOWN', 'say what to release: --id, or --rule (with --district/--year)');
  return where.join(' AND ');
}

/** Refuses a request that names nothing, an id that is not quarantined, or that no quarantined row or held partition matches. */
async function selectRelease(engine: PipelineEngine, request: ReleaseRequest): Promise<ReleaseSelection> {
  await requireOpsTables(engine);
  const condition = releaseCondition(request);
  if (request.ids?.length) {
    const found = new Set((await engine.query(`SELECT quarantine_id FROM ops.quarantine WHERE quarantine_id IN (${request.ids.map(Number).join(', ')})`)).map((row) => Number(row.quarantine_id)));
    const unknown = request.ids.filter((id) => !found.has(Number(id)));
    if (unknown.length > 0) throw new GatehouseError('GH_QUARANTINE_UNKNOWN', `no quarantined row has id ${unknown.join(', ')}; nothing was released`, { unknown });
  }
  const [rows] = await engine.query(`SELECT count(*) AS n ${releasedRows(condition)}`);
  const heldPartitions = await engine.query(
    `SELECT DISTINCT q.rule, q.district_key, q.year FROM ops.quarantine q WHERE ${condition} AND ${IN_HELD_PARTITION} AND NOT ${PARTITION_RELEASED} ORDER BY q.district_key, q.year`,
  );
  const [first] = await engine.query(`SELECT min(q.gate) AS gate, count(*) AS matched FROM ops.quarantine q WHERE ${condition}`);
  const fromLayer = GATE_INPUT[String(first!.gate) as Gate];
  if (Number(rows!.n) === 0 && heldPartitions.length === 0) {
    // Released twice before a replay, a row would be recorded twice; the first release still stands.
    if (Number(first!.matched) > 0) throw new GatehouseError('GH_QUARANTINE_RELEASED', `every row and partition this matches is already released; replay from ${fromLayer} to apply the release`, { ...request, fromLayer });
    throw new GatehouseError('GH_QUARANTINE_UNKNOWN', 'no quarantined row or held partition matches', { ...request });
  }
  return { condition, rows: Number(rows!.n), heldPartitions, fromLayer };
}

/**
 * Records releases: a quarantined row released passes its rule at the next run or replay; a held
 * partition released is no longer held by that check. Returns the layer to replay from.
 */
export async function releaseQuarantined(engine: PipelineEngine, request: ReleaseRequest): Promise<ReleaseResult> {
  const { condition, rows, heldPartitions, fromLayer } = await selectRelease(engine, request);
  const why = `${literal(request.reason)}, ${literal(request.by)}, ${literal(now())}`;
  // All of it or nothing: a release cut short would let some of the rows pass and not the others.
  await engine.exec('BEGIN TRANSACTION');
  try {
    const [before] = await engine.query('SELECT coalesce(max(release_id), 0) AS id FROM ops.releases');
    await engine.exec(`INSERT INTO ops.releases SELECT ${Number(before!.id)} + row_number() OVER (ORDER BY q.quarantine_id), q.rule, q.file_id, q.line, q.district_key, q.year, ${why} ${releasedRows(condition)}`);
    const [after] = await engine.query('SELECT coalesce(max(release_id), 0) AS id FROM ops.releases');
    let id = Number(after!.id);
    for (const partition of heldPartitions) {
      await engine.exec(`INSERT INTO ops.releases VALUES (${++id}, ${literal(String(partition.rule))}, NULL, NULL, ${literal(String(partition.district_key))}, ${Number(partition.year)}, ${why})`);
    }
    await engine.exec('COMMIT');
  } catch (error) {
    await engine.exec('ROLLBACK').catch(() => undefined);
    throw error;
  }
  return { rows, partitions: heldPartitions.length, fromLayer };
}

/** What releaseQuarantined would do with the same request (the same selection, the same refusals), writing nothing. */
export async function previewRelease(engine: PipelineEngine, request: ReleaseRequest): Promise<ReleasePreview> {
  const { condition, rows, heldPartitions, fromLayer } = await selectRelease(engine, request);
  const sample = await engine.query(`${QUARANTINE_ROWS} WHERE ${condition} ORDER BY q.quarantine_id LIMIT 20`);
  return { rows, partitions: heldPartitions.length, fromLayer, sample };
}

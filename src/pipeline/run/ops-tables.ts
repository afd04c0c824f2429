/**
 * The pipeline's own tables (schema ops): runs, loaded files, the check ledger, gate counts, the
 * quarantine, releases, partition statuses and published contracts. Plain SQL types both engines
 * take; times are ISO strings so that no engine's time zone handling enters the data.
 */
import { GatehouseError } from '../../core/errors.js';
import type { PipelineEngine } from '../engines/engine.js';
import { LAYERS } from '../definition/schema.js';

const TABLES = [
  `CREATE TABLE IF NOT EXISTS ops.runs (run_id INTEGER, mode VARCHAR, from_layer VARCHAR, dry_run BOOLEAN, started_at VARCHAR, finished_at VARCHAR,
     status VARCHAR, definition_hash VARCHAR, final_hashes VARCHAR, error VARCHAR)`,
  `CREATE TABLE IF NOT EXISTS ops.raw_files (file_id INTEGER, source VARCHAR, path VARCHAR, sha256 VARCHAR, bytes BIGINT, rows BIGINT, rejected BIGINT,
     decoded BOOLEAN, coerced_lines BIGINT, era VARCHAR, header VARCHAR, renamed VARCHAR, unknown VARCHAR, run_id INTEGER, loaded_at VARCHAR)`,
  `CREATE TABLE IF NOT EXISTS ops.check_results (run_id INTEGER, gate VARCHAR, check_id VARCHAR, kind VARCHAR, action VARCHAR, table_name VARCHAR,
     district_key VARCHAR, year INTEGER, status VARCHAR, rows_checked BIGINT, rows_flagged BIGINT, observed DOUBLE PRECISION, detail VARCHAR)`,
  `CREATE TABLE IF NOT EXISTS ops.gate_counts (run_id INTEGER, gate VARCHAR, table_name VARCHAR, rows_in BIGINT, promoted BIGINT, quarantined BIGINT)`,
  `CREATE TABLE IF NOT EXISTS ops.layer_counts (run_id INTEGER, layer VARCHAR, table_name VARCHAR, rows BIGINT, seconds DOUBLE PRECISION)`,
  `CREATE TABLE IF NOT EXISTS ops.quarantine (quarantine_id BIGINT, run_id INTEGER, gate VARCHAR, layer VARCHAR, table_name VARCHAR, rule VARCHAR,
     file_id INTEGER, line BIGINT, district_key VARCHAR, year INTEGER, raw_text VARCHAR)`,
  `CREATE TABLE IF NOT EXISTS ops.releases (release_id INTEGER, rule VARCHAR, file_id INTEGER, line BIGINT, district_key VARCHAR, year INTEGER,
     reason VARCHAR, released_by VARCHAR, released_at VARCHAR)`,
  `CREATE TABLE IF NOT EXISTS ops.partition_stats (run_id INTEGER, table_name VARCHAR, district_key VARCHAR, year INTEGER, rows BIGINT)`,
  `CREATE TABLE IF NOT EXISTS ops.partitions (run_id INTEGER, gate VARCHAR, district_key VARCHAR, year INTEGER, status VARCHAR, rule VARCHAR)`,
  `CREATE TABLE IF NOT EXISTS ops.contracts (table_name VARCHAR, version INTEGER, columns VARCHAR, key_columns VARCHAR, run_id INTEGER)`,
  // Added after the table: the process (host:pid) running the run, so that one it left `running` can be told from a live one.
  `ALTER TABLE ops.runs ADD COLUMN IF NOT EXISTS owner VARCHAR`,
];

/** Creates the schemas of every layer, ops, ref and the *_passed view schemas, and the ops tables. */
export async function ensureOpsTables(engine: PipelineEngine): Promise<void> {
  for (const schema of ['ops', 'ref', ...LAYERS, 'raw_passed', 'stage_passed', 'std_passed', 'enrich_passed']) await engine.exec(`CREATE SCHEMA IF NOT EXISTS ${schema}`);
  for (const sql of TABLES) await engine.exec(sql);
}

/**
 * For commands that read what runs left (status, quarantine, release): refuses a database no run
 * has written to (GH_PIPELINE_NOT_LOADED) rather than create the pipeline's schemas in it, which on
 * PostgreSQL could be someone else's database reached by a wrong URL; adds ops tables newer
 * Gatehouse versions introduced to one a run has written.
 */
export async function requireOpsTables(engine: PipelineEngine): Promise<void> {
  if (!(await engine.tableExists('ops.runs'))) {
    throw new GatehouseError('GH_PIPELINE_NOT_LOADED', `no pipeline has run in ${engine.description} (it has no ops.runs table): run \`gatehouse pipeline run --data DIR\` first`, { database: engine.description });
  }
  await ensureOpsTables(engine);
}

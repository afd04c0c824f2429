/**
 * The DuckDB engine (default): one embedded database file; CSV files are read by DuckDB itself,
 * so Node only hashes and decodes. No extension is installed or loaded (none can be downloaded here).
 */
import { createHash } from 'node:crypto';
import { readdirSync, rmdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { DuckDBInstance, type DuckDBConnection } from '@duckdb/node-api';
import { GatehouseError } from '../../core/errors.js';
import type { LogicalType } from '../definition/schema.js';
import { numberLines } from '../raw/number-lines.js';
import { createRawTablesSql, layoutsTable, linesTable, LINE_NUMBER_SEPARATOR, rawViewSql, type RawFileLayout } from './duckdb-raw.js';
import { literal, makeScratchFolder, quoteIdentifier, SCRATCH_PREFIX, type PipelineEngine, type RawLoad, type Row } from './engine.js';

/** The gh_* helpers the definition's SQL may use (PostgreSQL defines the same as SQL functions). */
const HELPERS = [
  // Empty, suppressed (*) and the em dash are strict nulls; the pseudo-nulls are not (they are quarantined).
  // The cheap test comes first in each: DuckDB evaluates the right of AND/OR only for the rows the left leaves open,
  // and TRY_CAST accepts surrounding spaces, so trim() runs only on the few cells that are not numbers.
  `CREATE OR REPLACE MACRO gh_null_token(v) AS v IS NULL OR v IN ('', '*', '—') OR trim(v) IN ('', '*', '—')`,
  // Two IN lists of three, not one of six: DuckDB rewrites an IN list of five or more constants into a mark join, one
  // per use of the macro, computed on every row (stage.caaspp had 50 of them; ~35% of its CPU, and no batch insert).
  `CREATE OR REPLACE MACRO gh_pseudo_null(v) AS TRY_CAST(v AS DOUBLE) IS NULL AND (trim(v) IN ('NA', 'N/A', '-') OR trim(v) IN ('.', 'n/a', 'NULL'))`,
  `CREATE OR REPLACE MACRO gh_suppressed(v) AS coalesce(v = '*' OR trim(v) = '*', false)`,
  `CREATE OR REPLACE MACRO gh_int(v) AS TRY_CAST(v AS BIGINT)`,
  `CREATE OR REPLACE MACRO gh_num(v) AS TRY_CAST(v AS DOUBLE)`,
  `CREATE OR REPLACE MACRO gh_bad_int(v) AS TRY_CAST(v AS BIGINT) IS NULL AND NOT gh_null_token(v) AND NOT gh_pseudo_null(v)`,
  `CREATE OR REPLACE MACRO gh_bad_num(v) AS TRY_CAST(v AS DOUBLE) IS NULL AND NOT gh_null_token(v) AND NOT gh_pseudo_null(v)`,
  `CREATE OR REPLACE MACRO gh_digits(v, n) AS length(v) = n AND TRY_CAST(v AS BIGINT) IS NOT NULL AND NOT contains(v, '-') AND NOT contains(v, '+') AND NOT contains(v, ' ')`,
];

/** A string no file holds: DuckDB's reader would otherwise turn empty fields into NULL, and Raw keeps '' as ''. */
const NEVER_NULL = '\u0002\u0003';

const PROGRESS_AFTER_MS = 500;

export interface DuckDbOptions {
  /** The database file (':memory:' for a throwaway one). */
  path: string;
  threads?: number;
  memoryLimit?: string;
  tempDirectory?: string;
  /**
   * Track each statement's progress for progress(). Off unless a bar will show it: DuckDB then works out the
   * progress of every pipeline at each task step (~10% of a run's CPU in a profile).
   */
  trackProgress?: boolean;
}

export class DuckDbEngine implements PipelineEngine {
  readonly dialect = 'duckdb' as const;
  readonly description: string;

  readonly scratchDirectory: string;

  /** The signal that asked to stop: the statement running (or the next one) fails with GH_PIPELINE_INTERRUPTED. */
  private interrupting: string | undefined;

  private constructor(
    private readonly instance: DuckDBInstance,
    private readonly connection: DuckDBConnection,
    path: string,
    private readonly tempDirectory: string | undefined,
  ) {
    this.description = `duckdb ${path}`;
    this.scratchDirectory = tempDirectory ?? tmpdir();
  }

  static async open(options: DuckDbOptions): Promise<DuckDbEngine> {
    // No layer's rows have an order to keep (whatever needs one sorts: quarantine ids by file and line; table hashes
    // ignore it; Raw's line numbers are data, see loadRaw). Keeping it made DuckDB build every table from a join
    // (std, enrich, semantic, final) on one thread.
    const config: Record<string, string> = { preserve_insertion_order: 'false' };
    if (options.threads) config.threads = String(options.threads);
    if (options.memoryLimit) config.memory_limit = options.memoryLimit;
    if (options.tempDirectory) config.temp_directory = options.tempDirectory;
    const instance = await DuckDBInstance.create(options.path, config).catch((error: unknown) => {
      // e.g. "Could not set lock on file" (another process has it open), or a setting DuckDB refuses.
      const message = (error as Error)?.message ?? String(error);
      throw new GatehouseError('GH_PIPELINE_ENGINE', `cannot open DuckDB database ${options.path} (settings ${JSON.stringify(config)}): ${message.split('\n')[0]}`, { engine: 'duckdb', detail: message }, { cause: error });
    });
    const engine = new DuckDbEngine(instance, await instance.connect(), options.path, options.tempDirectory);
    // Progress of a statement (for the CLI's bar) is tracked once it has run PROGRESS_AFTER_MS; DuckDB prints nothing itself.
    if (options.trackProgress) await engine.exec(`SET enable_progress_bar = true; SET enable_progress_bar_print = false; SET progress_bar_time = ${PROGRESS_AFTER_MS}`);
    else await engine.exec('SET enable_progress_bar = false');
    for (const sql of HELPERS) await engine.exec(sql);
    return engine;
  }

  async exec(sql: string): Promise<void> {
    this.stopIfInterrupted();
    try {
      await this.connection.run(sql);
    } catch (error) {
      throw this.failure(error, sql);
    }
  }

  async query(sql: string): Promise<Row[]> {
    this.stopIfInterrupted();
    try {
      const reader = await this.connection.runAndReadAll(sql);
      return reader.getRowObjectsJS().map(toRow);
    } catch (error) {
      throw this.failure(error, sql);
    }
  }

  interrupt(signal: string): boolean {
    this.interrupting = signal;
    this.connection.interrupt();
    return true;
  }

  /** Fails the first statement after interrupt() when none was running to be stopped. */
  private stopIfInterrupted(): void {
    const signal = this.interrupting;
    if (signal === undefined) return;
    this.interrupting = undefined;
    throw interruptedError(signal);
  }

  private failure(error: unknown, sql: string): GatehouseError {
    const signal = this.interrupting;
    if (signal === undefined) return engineError(error, sql);
    this.interrupting = undefined;
    return interruptedError(signal, error);
  }

  async createTableAs(name: string, sql: string): Promise<void> {
    await this.exec(`CREATE OR REPLACE TABLE ${name} AS ${sql}`);
  }

  async createView(name: string, sql: string): Promise<void> {
    await this.exec(`CREATE OR REPLACE VIEW ${name} AS ${sql}`);
  }

  async tableExists(table: string): Promise<boolean> {
    const [schema, name] = table.split('.') as [string, string];
    const rows = await this.query(`SELECT 1 AS found FROM information_schema.tables WHERE table_schema = ${literal(schema)} AND table_name = ${literal(name)}`);
    return rows.length > 0;
  }

  async columns(table: string): Promise<Array<{ name: string; type: LogicalType | 'other'; engineType: string }>> {
    const [schema, name] = table.split('.') as [string, string];
    const rows = await this.query(
      `SELECT column_name, data_type FROM information_schema.columns WHERE table_schema = ${literal(schema)} AND table_name = ${literal(name)} ORDER BY ordinal_position`,
    );
    return rows.map((row) => ({ name: String(row.column_name), engineType: String(row.data_type), type: logicalType(String(row.data_type)) }));
  }

  async tableHash(table: string): Promise<string> {
    const columns = await this.columns(table);
    // hash() of the whole row as a struct; summing (mod 2^64 in a HUGEINT) and xor-ing makes it independent of row order.
    const [row] = await this.query(`SELECT count(*) AS n, coalesce(sum(hash(t)::HUGEINT), 0)::VARCHAR AS s, coalesce(bit_xor(hash(t)), 0)::VARCHAR AS x FROM ${table} t`);
    return createHash('sha256')
      .update(JSON.stringify({ columns: columns.map((column) => [column.name, column.engineType]), rows: row }))
      .digest('hex');
  }

  async prepareRaw(table: string, canonicalColumns: readonly string[]): Promise<void> {
    const [kind] = await this.query(`SELECT table_type FROM information_schema.tables WHERE table_schema || '.' || table_name = ${literal(table)}`);
    if (kind?.table_type === 'BASE TABLE') {
      throw new GatehouseError(
        'GH_PIPELINE_NOT_LOADED',
        `${table} was written by an older Gatehouse (one column per field); this one keeps Raw as lines. Run the pipeline into a new database (--db) from the source files; this one is left as it is`,
        { table },
      );
    }
    for (const sql of createRawTablesSql(table)) await this.exec(sql);
    await this.refreshRawView(table, canonicalColumns);
  }

  /** Rebuilds raw.<source> over every file its layouts table lists. */
  private async refreshRawView(table: string, canonicalColumns: readonly string[]): Promise<void> {
    const layouts = await this.query(`SELECT file_id, delimiter, file_columns FROM ${layoutsTable(table)} ORDER BY file_id`);
    const files: RawFileLayout[] = layouts.map((row) => ({ fileId: Number(row.file_id), delimiter: String(row.delimiter), fileColumns: JSON.parse(String(row.file_columns)) }));
    await this.createView(table, rawViewSql(table, canonicalColumns, files));
  }

  async loadRaw(load: RawLoad): Promise<{ rows: number; rejected: number }> {
    const lines = linesTable(load.table);
    const rejectsTable = `gh_rejects_${load.fileId}`;
    const rejectsScan = `gh_reject_scans_${load.fileId}`;
    const coercions = `gh_coerced_${load.fileId}`;
    await this.exec(`CREATE OR REPLACE TEMP TABLE ${coercions} (line BIGINT, rule VARCHAR)`);
    for (let i = 0; i < load.coercedLines.length; i += 1000) {
      const values = load.coercedLines.slice(i, i + 1000).map(({ line, rule }) => `(${line}, ${literal(rule)})`);
      await this.exec(`INSERT INTO ${coercions} VALUES ${values.join(', ')}`);
    }
    // Each line carries its number as a first field (raw/number-lines.ts), so the reader may run in parallel.
    const numberedDir = makeScratchFolder(this, 'gatehouse-lines-');
    const numbered = path.join(numberedDir, 'numbered.txt');
    const read = `read_csv(${literal(numbered)}, delim = ${literal(LINE_NUMBER_SEPARATOR)}, header = true, columns = {'_line': 'BIGINT', '_text': 'VARCHAR'}, auto_detect = false, quote = '', escape = '',
      nullstr = ${literal(NEVER_NULL)}, null_padding = true, store_rejects = true, rejects_table = ${literal(rejectsTable)}, rejects_scan = ${literal(rejectsScan)})`;
    // This file's fields under their canonical names, for the partition SQL.
    const present = new Set(load.fileColumns.filter((name): name is string => name !== null));
    const fields = [
      ...load.fileColumns.flatMap((name, index) => (name === null ? [] : [`_fields[${index + 1}] AS ${quoteIdentifier(name)}`])),
      ...load.canonicalColumns.filter((name) => !present.has(name)).map((name) => `NULL::VARCHAR AS ${quoteIdentifier(name)}`),
    ];
    const split = `SELECT _line, _text, len(_fields) > ${load.fileColumns.length} AS _long, len(_fields) < ${load.fieldsNeeded} AS _short, ${fields.join(', ')}
      FROM (SELECT _line, _text, string_split(_text, ${literal(load.delimiter)}) AS _fields FROM ${read})`;
    const coercionJoin = load.coercedLines.length > 0;
    let rejects: Row[];
    try {
      await numberLines(load.path, numbered, LINE_NUMBER_SEPARATOR);
      // A line with more fields than its header is kept whole in _reject (and loses its fields), as a line the reader refused.
      await this.exec(
        `INSERT INTO ${lines}
         SELECT ${load.fileId}, r._line, CASE WHEN r._long THEN NULL ELSE r._text END,
           CASE WHEN r._long THEN NULL ELSE (${load.partition.district}) END, CASE WHEN r._long THEN NULL ELSE (${load.partition.year})::INTEGER END,
           ${coercionJoin ? 'CASE WHEN r._long THEN NULL ELSE c.rule END' : 'NULL::VARCHAR'}, CASE WHEN r._long THEN 'TOO MANY COLUMNS: ' || r._text END, NOT r._long AND r._short
         FROM (${split}) r ${coercionJoin ? `LEFT JOIN ${coercions} c ON c.line = r._line` : ''}`,
      );
      // The reader's line is the copy's, which is the source's; the text loses the number the copy put in front.
      rejects = await this.query(
        `SELECT line, min(substr(csv_line, strpos(csv_line, ${literal(LINE_NUMBER_SEPARATOR)}) + ${LINE_NUMBER_SEPARATOR.length})) AS text, string_agg(DISTINCT error_type, ', ') AS error FROM ${rejectsTable} GROUP BY line ORDER BY line`,
      );
    } finally {
      rmSync(numberedDir, { recursive: true, force: true });
    }
    for (const reject of rejects) {
      await this.exec(`INSERT INTO ${lines} VALUES (${load.fileId}, ${Number(reject.line)}, NULL, NULL, NULL, NULL, ${literal(`${reject.error}: ${reject.text}`)}, false)`);
    }
    await this.exec(`INSERT INTO ${layoutsTable(load.table)} VALUES (${load.fileId}, ${literal(load.delimiter)}, ${literal(JSON.stringify(load.fileColumns))})`);
    await this.refreshRawView(load.table, load.canonicalColumns);
    const [count] = await this.query(`SELECT count(*) AS n, count(_reject) AS rejected FROM ${lines} WHERE _file_id = ${load.fileId}`);
    await this.exec(`DROP TABLE IF EXISTS ${coercions}; DROP TABLE IF EXISTS ${rejectsTable}; DROP TABLE IF EXISTS ${rejectsScan}`);
    return { rows: Number(count!.n), rejected: Number(count!.rejected) };
  }

  async removeRawFile(table: string, fileId: number, canonicalColumns: readonly string[]): Promise<void> {
    await this.exec(`DELETE FROM ${linesTable(table)} WHERE _file_id = ${fileId}`);
    await this.exec(`DELETE FROM ${layoutsTable(table)} WHERE file_id = ${fileId}`);
    await this.refreshRawView(table, canonicalColumns);
  }

  removeLeftoverScratch(): string[] {
    if (this.tempDirectory === undefined) return [];
    let names: string[];
    try {
      names = readdirSync(this.tempDirectory);
    } catch {
      return []; // never made
    }
    // Only this process has the database open (DuckDB locks the file), so a working folder here is one a stopped run left;
    // DuckDB's own spill files are left to it.
    const leftovers = names.filter((name) => name.startsWith(SCRATCH_PREFIX)).map((name) => path.join(this.tempDirectory!, name));
    for (const folder of leftovers) rmSync(folder, { recursive: true, force: true });
    return leftovers;
  }

  progress(): number | undefined {
    const { percentage } = this.connection.progress;
    return percentage >= 0 ? percentage : undefined;
  }

  async close(): Promise<void> {
    this.connection.closeSync();
    this.instance.closeSync();
    // <db>.tmp (spills and working copies) is made on demand; left empty, it would only clutter the database's folder.
    if (this.tempDirectory === undefined) return;
    try {
      rmdirSync(this.tempDirectory);
    } catch {
      // never made, or not empty: left as it is
    }
  }
}

function toRow(object: Record<string, unknown>): Row {
  const row: Row = {};
  for (const [key, value] of Object.entries(object)) {
    if (typeof value === 'bigint') row[key] = Number(value);
    else if (value === null || value === undefined) row[key] = null;
    else if (typeof value === 'number' || typeof value === 'string' || typeof value === 'boolean') row[key] = value;
    else row[key] = String(value);
  }
  return row;
}

export function logicalType(engineType: string): LogicalType | 'other' {
  const type = engineType.toUpperCase();
  if (/^(BIGINT|INTEGER|SMALLINT|TINYINT|HUGEINT|UBIGINT|UINTEGER|INT8|INT4|INT2)/.test(type)) return 'integer';
  if (/^(DOUBLE|FLOAT|REAL|DECIMAL|NUMERIC)/.test(type)) return 'number';
  if (/^(VARCHAR|TEXT|CHARACTER VARYING|CHARACTER|STRING)/.test(type)) return 'text';
  if (/^BOOL/.test(type)) return 'boolean';
  return 'other';
}

function interruptedError(signal: string, cause?: unknown): GatehouseError {
  return new GatehouseError('GH_PIPELINE_INTERRUPTED', `stopped by ${signal} before it finished`, { engine: 'duckdb', signal }, cause === undefined ? undefined : { cause });
}

function engineError(error: unknown, sql: string): GatehouseError {
  const message = (error as Error)?.message ?? String(error);
  return new GatehouseError('GH_PIPELINE_ENGINE', `the SQL engine refused a statement: ${message.split('\n')[0]}`, { engine: 'duckdb', sql: sql.length > 2000 ? `${sql.slice(0, 2000)}…` : sql, detail: message }, { cause: error });
}

/**
 * The PostgreSQL engine: the same pipeline SQL on a PostgreSQL 15+ database (the scale-out target).
 * Node reads the decoded files and sends rows in batches as arrays (one unnest INSERT per batch);
 * the gh_* helpers are SQL functions, so the definition's SQL is the same on both engines.
 */
import { createReadStream } from 'node:fs';
import { tmpdir } from 'node:os';
import { createInterface } from 'node:readline';
import pg from 'pg';
import { GatehouseError } from '../../core/errors.js';
import type { LogicalType } from '../definition/schema.js';
import { logicalType } from './duckdb.js';
import { literal, quoteIdentifier, type PipelineEngine, type RawLoad, type Row } from './engine.js';

const HELPERS = [
  `CREATE OR REPLACE FUNCTION gh_null_token(v text) RETURNS boolean LANGUAGE sql IMMUTABLE AS $$ SELECT v IS NULL OR trim(v) IN ('', '*', '—') $$`,
  `CREATE OR REPLACE FUNCTION gh_pseudo_null(v text) RETURNS boolean LANGUAGE sql IMMUTABLE AS $$ SELECT trim(v) IN ('NA', 'N/A', '-', '.', 'n/a', 'NULL') $$`,
  `CREATE OR REPLACE FUNCTION gh_suppressed(v text) RETURNS boolean LANGUAGE sql IMMUTABLE AS $$ SELECT coalesce(trim(v) = '*', false) $$`,
  `CREATE OR REPLACE FUNCTION gh_int(v text) RETURNS bigint LANGUAGE sql IMMUTABLE AS $$ SELECT CASE WHEN trim(v) ~ '^[+-]?[0-9]{1,18}$' THEN trim(v)::bigint END $$`,
  `CREATE OR REPLACE FUNCTION gh_num(v text) RETURNS double precision LANGUAGE sql IMMUTABLE AS $$ SELECT CASE WHEN trim(v) ~ '^[+-]?([0-9]+[.]?[0-9]*|[.][0-9]+)([eE][+-]?[0-9]+)?$' THEN trim(v)::double precision END $$`,
  `CREATE OR REPLACE FUNCTION gh_bad_int(v text) RETURNS boolean LANGUAGE sql IMMUTABLE AS $$ SELECT gh_int(v) IS NULL AND NOT gh_null_token(v) AND NOT coalesce(gh_pseudo_null(v), false) $$`,
  `CREATE OR REPLACE FUNCTION gh_bad_num(v text) RETURNS boolean LANGUAGE sql IMMUTABLE AS $$ SELECT gh_num(v) IS NULL AND NOT gh_null_token(v) AND NOT coalesce(gh_pseudo_null(v), false) $$`,
  `CREATE OR REPLACE FUNCTION gh_digits(v text, n integer) RETURNS boolean LANGUAGE sql IMMUTABLE AS $$ SELECT v ~ ('^[0-9]{' || n || '}$') $$`,
];

/** Rows per INSERT of a raw load. */
const BATCH_ROWS = 5_000;

/** bigint and numeric come back as numbers (counts and sums here stay far below 2^53). */
const types = {
  getTypeParser: ((oid: number, format?: 'text' | 'binary') => (oid === 20 || oid === 1700 ? (value: string) => Number(value) : pg.types.getTypeParser(oid, format))) as typeof pg.types.getTypeParser,
};

export class PostgresEngine implements PipelineEngine {
  readonly dialect = 'postgres' as const;
  readonly description: string;
  readonly scratchDirectory = tmpdir();

  private constructor(private readonly client: pg.Client, url: string) {
    this.description = `postgres ${withoutPassword(url)}`;
  }

  static async open(options: { url: string }): Promise<PostgresEngine> {
    if (!options.url) throw new GatehouseError('GH_PIPELINE_ENGINE', 'the postgres engine needs a connection URL (--pg-url or GATEHOUSE_PIPELINE_PG_URL)');
    requirePostgresUrl(options.url);
    let client: pg.Client;
    try {
      client = new pg.Client({ connectionString: options.url, types });
      await client.connect();
    } catch (error) {
      throw new GatehouseError('GH_PIPELINE_ENGINE', `cannot connect to PostgreSQL: ${(error as Error).message}`, {}, { cause: error });
    }
    const engine = new PostgresEngine(client, options.url);
    await engine.exec('SET client_min_messages = warning');
    for (const sql of HELPERS) await engine.exec(sql);
    return engine;
  }

  async exec(sql: string): Promise<void> {
    await this.run(sql);
  }

  async query(sql: string): Promise<Row[]> {
    return (await this.run(sql)).rows as Row[];
  }

  private async run(sql: string, values?: unknown[]): Promise<pg.QueryResult> {
    try {
      return await this.client.query(sql, values);
    } catch (error) {
      const message = (error as Error)?.message ?? String(error);
      throw new GatehouseError('GH_PIPELINE_ENGINE', `the SQL engine refused a statement: ${message}`, { engine: 'postgres', sql: sql.length > 2000 ? `${sql.slice(0, 2000)}…` : sql }, { cause: error });
    }
  }

  async createTableAs(name: string, sql: string): Promise<void> {
    await this.exec(`DROP TABLE IF EXISTS ${name} CASCADE`);
    await this.exec(`CREATE TABLE ${name} AS ${sql}`);
  }

  async createView(name: string, sql: string): Promise<void> {
    await this.exec(`DROP VIEW IF EXISTS ${name} CASCADE`);
    await this.exec(`CREATE VIEW ${name} AS ${sql}`);
  }

  async tableExists(table: string): Promise<boolean> {
    const [schema, name] = splitName(table);
    const rows = await this.query(`SELECT 1 AS found FROM information_schema.tables WHERE table_schema = ${literal(schema)} AND table_name = ${literal(name)}`);
    return rows.length > 0;
  }

  async columns(table: string): Promise<Array<{ name: string; type: LogicalType | 'other'; engineType: string }>> {
    const [schema, name] = splitName(table);
    const rows = await this.query(`SELECT column_name, data_type FROM information_schema.columns WHERE table_schema = ${literal(schema)} AND table_name = ${literal(name)} ORDER BY ordinal_position`);
    return rows.map((row) => ({ name: String(row.column_name), engineType: String(row.data_type), type: logicalType(String(row.data_type)) }));
  }

  async tableHash(table: string): Promise<string> {
    const columns = await this.columns(table);
    const [row] = await this.query(`SELECT count(*) AS n, md5(coalesce(string_agg(h, '' ORDER BY h), '')) AS h FROM (SELECT md5(t::text) AS h FROM ${table} t) x`);
    const { createHash } = await import('node:crypto');
    return createHash('sha256').update(JSON.stringify({ columns: columns.map((column) => [column.name, column.engineType]), rows: row })).digest('hex');
  }

  async prepareRaw(table: string, canonicalColumns: readonly string[]): Promise<void> {
    const columns = canonicalColumns.map((name) => `${quoteIdentifier(name)} text`);
    await this.exec(`CREATE TABLE IF NOT EXISTS ${table} (${columns.join(', ')}, _file_id integer, _line bigint, _text text, _district_key text, _year integer, _rules text, _reject text, _short boolean)`);
    if (!(await this.columns(table)).some((column) => column.name === '_text')) {
      throw new GatehouseError(
        'GH_PIPELINE_NOT_LOADED',
        `${table} was written by an older Gatehouse (without the lines' text); run the pipeline into a new database from the source files; this one is left as it is`,
        { table },
      );
    }
  }

  async removeRawFile(table: string, fileId: number): Promise<void> {
    await this.exec(`DELETE FROM ${table} WHERE _file_id = ${fileId}`);
  }

  async loadRaw(load: RawLoad): Promise<{ rows: number; rejected: number }> {
    const columns = [...load.canonicalColumns, '_file_id', '_line', '_text', '_rules', '_reject', '_short'];
    const types = [...load.canonicalColumns.map(() => 'text'), 'integer', 'bigint', 'text', 'text', 'text', 'boolean'];
    const position = new Map(load.canonicalColumns.map((name, index) => [name, index]));
    const targets = load.fileColumns.map((name) => (name === null ? -1 : position.get(name)!));
    const coerced = new Map(load.coercedLines.map(({ line, rule }) => [line, rule]));
    const arrays = (): unknown[][] => columns.map(() => []);
    let batch = arrays();
    let batched = 0;
    const insert = `INSERT INTO ${load.table} (${columns.map(quoteIdentifier).join(', ')})
      SELECT * FROM unnest(${types.map((type, index) => `$${index + 1}::${type}[]`).join(', ')})`;
    const flush = async () => {
      if (batched === 0) return;
      await this.run(insert, batch);
      batch = arrays();
      batched = 0;
    };
    let line = 0;
    let rows = 0;
    let rejected = 0;
    const reader = createInterface({ input: createReadStream(load.path, { encoding: 'utf8' }), crlfDelay: Infinity });
    for await (const raw of reader) {
      line++;
      if (line === 1) continue;
      const text = raw.endsWith('\r') ? raw.slice(0, -1) : raw;
      const fields = text.split(load.delimiter);
      const tooLong = fields.length > load.fileColumns.length;
      for (let column = 0; column < load.canonicalColumns.length; column++) batch[column]!.push(null);
      if (!tooLong) {
        // Fields missing at the end stay NULL, as DuckDB's null padding leaves them.
        for (let index = 0; index < fields.length; index++) if (targets[index]! >= 0) batch[targets[index]!]![batch[targets[index]!]!.length - 1] = fields[index]!;
      } else rejected++;
      const base = load.canonicalColumns.length;
      batch[base]!.push(load.fileId);
      batch[base + 1]!.push(line);
      batch[base + 2]!.push(tooLong ? null : text);
      batch[base + 3]!.push(coerced.get(line) ?? null);
      batch[base + 4]!.push(tooLong ? `TOO MANY COLUMNS: ${text}` : null);
      batch[base + 5]!.push(!tooLong && fields.length < load.fieldsNeeded);
      rows++;
      if (++batched >= BATCH_ROWS) await flush();
    }
    await flush();
    await this.exec(
      `UPDATE ${load.table} SET _district_key = (${load.partition.district}), _year = (${load.partition.year})::integer WHERE _file_id = ${load.fileId} AND _reject IS NULL`,
    );
    return { rows, rejected };
  }

  /** pg sends a cancel only from another connection, which is not built: the CLI exits at once on a signal instead. */
  interrupt(_signal: string): boolean {
    return false;
  }

  /** The system's temp folder holds other processes' working copies too: nothing is removed. */
  removeLeftoverScratch(): string[] {
    return [];
  }

  /** PostgreSQL reports no progress of a general statement (its pg_stat_progress_* views cover COPY, indexes and vacuum). */
  progress(): number | undefined {
    return undefined;
  }

  async close(): Promise<void> {
    await this.client.end();
  }
}

/** The URL with its password, if any, replaced by *** (up to the last @, in case the password holds one): messages never show it. */
const withoutPassword = (url: string): string => url.replace(/\/\/([^:@/]*):.*@/, '//$1:***@');

/**
 * Refuses a connection URL that is not a postgres:// (or postgresql://) URL before the driver sees it: pg throws a bare
 * TypeError (with a stack) on one it cannot parse (a port of 99999 or abc, an unclosed [), and reads a word with no
 * scheme as a path on a host named "base".
 */
function requirePostgresUrl(url: string): void {
  const expected = '(expected postgres://user:password@host:port/database)';
  if (!/^postgres(ql)?:\/\//i.test(url)) {
    throw new GatehouseError('GH_PIPELINE_ENGINE', `cannot connect to PostgreSQL: ${withoutPassword(url)} is not a postgres:// URL ${expected}`, { engine: 'postgres' });
  }
  try {
    new URL(url);
  } catch {
    throw new GatehouseError('GH_PIPELINE_ENGINE', `cannot connect to PostgreSQL: ${withoutPassword(url)} is not a valid URL ${expected}`, { engine: 'postgres' });
  }
}

function splitName(table: string): [string, string] {
  const [schema, name] = table.includes('.') ? (table.split('.') as [string, string]) : ['public', table];
  return [schema, name];
}

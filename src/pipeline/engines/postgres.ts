/**
 * The PostgreSQL engine: the same pipeline SQL on a PostgreSQL 15+ database (the scale-out target).
 * Node reads the decoded files and sends rows in batches as arrays (one unnest INSERT per batch);
 * the gh_* helpers are SQL functions, so the definition's SQL is the same on both engines.
 *
 * A run stopped midway must not outlive its process in the server: a signal cancels the running
 * statement (pg_cancel_backend, from a second connection); a session whose client is gone (SIGKILL)
 * is ended by the server (client_connection_check_interval) or, failing that, by the next process
 * that opens the database (sessions are named by their owner, host:pid). The run's scratch tables
 * (gh_*) are temporary tables, which the server drops with the session; its working copies of files
 * sit in a folder named by its pid, removed by the next run once that pid is gone.
 */
import { createReadStream, readdirSync, rmdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import pg from 'pg';
import { GatehouseError } from '../../core/errors.js';
import type { LogicalType } from '../definition/schema.js';
import { logicalType } from './duckdb.js';
import { literal, quoteIdentifier, type PipelineEngine, type RawLoad, type Row } from './engine.js';
import { pidGone } from '../../core/pid.js';
import { ownerGone, processOwner } from './owner.js';

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

/**
 * How often the server checks, while it runs a statement, that the session's client is still there
 * (client_connection_check_interval, PostgreSQL 14+, any user may set it): without it, a backend whose
 * client was killed runs its statement to the end, holding its locks, and notices only when it answers.
 */
export const CONNECTION_CHECK_INTERVAL_MS = 1000;

/** The application_name of a pipeline session, followed by its owner (host:pid): how a later process finds one whose process is gone. */
export const SESSION_NAME_PREFIX = 'gatehouse pipeline ';

/** The folder (in the system's temp folder) of one process's working copies: the pid tells whose it is. */
const SCRATCH_FOLDER = /^gatehouse-pg-scratch-(\d+)$/;
const scratchFolder = (pid: number): string => path.join(tmpdir(), `gatehouse-pg-scratch-${pid}`);

/** Rows per INSERT of a raw load. */
const BATCH_ROWS = 5_000;

/** bigint and numeric come back as numbers (counts and sums here stay far below 2^53). */
const types = {
  getTypeParser: ((oid: number, format?: 'text' | 'binary') => (oid === 20 || oid === 1700 ? (value: string) => Number(value) : pg.types.getTypeParser(oid, format))) as typeof pg.types.getTypeParser,
};

export class PostgresEngine implements PipelineEngine {
  readonly dialect = 'postgres' as const;
  readonly description: string;
  readonly scratchDirectory = scratchFolder(process.pid);

  /** The signal that asked to stop: the statement running (cancelled) or the next one fails with GH_PIPELINE_INTERRUPTED. */
  private interrupting: string | undefined;
  /** The cancel request under way: no statement is sent before it is done, so that it cannot cancel one sent after the signal. */
  private cancelling: Promise<void> | undefined;
  /** Statements sent and not yet answered. */
  private inFlight = 0;

  private constructor(
    private readonly client: pg.Client,
    private readonly url: string,
    /** The server process of this session (pg_backend_pid()), whose statement a cancel names. */
    private readonly backendPid: number,
  ) {
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
    let backendPid: number;
    try {
      const result = await client.query<{ pid: number }>('SELECT pg_backend_pid() AS pid');
      backendPid = Number(result.rows[0]!.pid);
    } catch (error) {
      await client.end().catch(() => undefined);
      throw new GatehouseError('GH_PIPELINE_ENGINE', `cannot connect to PostgreSQL: ${(error as Error).message}`, {}, { cause: error });
    }
    const engine = new PostgresEngine(client, options.url, backendPid);
    await engine.exec('SET client_min_messages = warning');
    await engine.run(`SELECT set_config('application_name', $1, false)`, [`${SESSION_NAME_PREFIX}${processOwner()}`]);
    // Set where the server has it (14+); an older one keeps running a killed client's statement to its end.
    await engine.exec(`SELECT set_config(name, '${CONNECTION_CHECK_INTERVAL_MS}', false) FROM pg_settings WHERE name = 'client_connection_check_interval'`);
    await engine.endOrphanedSessions();
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
    if (this.cancelling) {
      await this.cancelling;
      this.cancelling = undefined;
    }
    const signal = this.interrupting;
    if (signal !== undefined && this.inFlight === 0) {
      // Stopped between statements (or the cancelled one had just finished): this one is not sent; those after it are.
      this.interrupting = undefined;
      throw interruptedError(signal);
    }
    this.inFlight++;
    try {
      return await this.client.query(sql, values);
    } catch (error) {
      const stoppedBy = this.interrupting;
      if (stoppedBy !== undefined) {
        this.interrupting = undefined;
        throw interruptedError(stoppedBy, error);
      }
      const message = (error as Error)?.message ?? String(error);
      throw new GatehouseError('GH_PIPELINE_ENGINE', `the SQL engine refused a statement: ${message}`, { engine: 'postgres', sql: sql.length > 2000 ? `${sql.slice(0, 2000)}…` : sql }, { cause: error });
    } finally {
      this.inFlight--;
    }
  }

  /**
   * A table named without a schema is a run's scratch (gh_counts, gh_dups_N, gh_held, …): a temporary table, which only
   * this session sees (two runs on one database do not share them) and which the server drops when the session ends,
   * however it ends. Unqualified names find it first: PostgreSQL looks in the session's temporary schema first.
   */
  async createTableAs(name: string, sql: string): Promise<void> {
    const table = name.includes('.') ? name : `pg_temp.${name}`;
    await this.exec(`DROP TABLE IF EXISTS ${table} CASCADE`);
    await this.exec(`CREATE TABLE ${table} AS ${sql}`);
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

  /**
   * Cancels the statement running, if one is: pg has no cancel on a client, so a second connection asks the server to
   * (pg_cancel_backend of this session's backend); the statement fails, its transaction is rolled back. With none
   * running, the next statement is refused. Either way that one fails with GH_PIPELINE_INTERRUPTED, and the statements
   * after it run (to record the run interrupted).
   */
  interrupt(signal: string): boolean {
    this.interrupting = signal;
    if (this.inFlight > 0 && this.cancelling === undefined) this.cancelling = this.cancelStatement();
    return true;
  }

  private async cancelStatement(): Promise<void> {
    const canceller = new pg.Client({ connectionString: this.url, connectionTimeoutMillis: 10_000 });
    try {
      await canceller.connect();
      await canceller.query('SELECT pg_cancel_backend($1)', [this.backendPid]);
    } catch {
      // No second connection (the server is full or gone): the statement runs to its end and the next one is refused.
    } finally {
      await canceller.end().catch(() => undefined);
    }
  }

  /**
   * Ends the sessions on this database of pipeline processes on this host that are gone (killed while the server was
   * running their statement, where the server did not notice: before PostgreSQL 14, or behind a connection pooler),
   * so that their locks do not block this one. A session it may not end (another user's) is left.
   */
  private async endOrphanedSessions(): Promise<void> {
    const sessions = await this.run(
      `SELECT pid, application_name FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid() AND starts_with(application_name, $1)`,
      [SESSION_NAME_PREFIX],
    );
    for (const session of sessions.rows as Array<{ pid: number; application_name: string }>) {
      if (!ownerGone(session.application_name.slice(SESSION_NAME_PREFIX.length))) continue;
      await this.run('SELECT pg_terminate_backend($1)', [Number(session.pid)]).catch(() => undefined);
    }
  }

  /**
   * Removes the working-copy folders (gatehouse-pg-scratch-<pid> in the system's temp folder) of processes that are
   * gone: a live process's, this one's included, are left. Returns the folders removed.
   */
  removeLeftoverScratch(): string[] {
    let names: string[];
    try {
      names = readdirSync(tmpdir());
    } catch {
      return [];
    }
    const leftovers = names.filter((name) => {
      const pid = SCRATCH_FOLDER.exec(name)?.[1];
      return pid !== undefined && Number(pid) !== process.pid && pidGone(Number(pid));
    });
    for (const name of leftovers) rmSync(path.join(tmpdir(), name), { recursive: true, force: true });
    return leftovers.map((name) => path.join(tmpdir(), name));
  }

  /** PostgreSQL reports no progress of a general statement (its pg_stat_progress_* views cover COPY, indexes and vacuum). */
  progress(): number | undefined {
    return undefined;
  }

  async close(): Promise<void> {
    await this.cancelling;
    await this.client.end();
    // Made on demand; left empty, it would only clutter the temp folder (another engine of this process may still use it: then it is not empty).
    try {
      rmdirSync(this.scratchDirectory);
    } catch {
      // never made, or not empty
    }
  }
}

function interruptedError(signal: string, cause?: unknown): GatehouseError {
  return new GatehouseError('GH_PIPELINE_INTERRUPTED', `stopped by ${signal} before it finished`, { engine: 'postgres', signal }, cause === undefined ? undefined : { cause });
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

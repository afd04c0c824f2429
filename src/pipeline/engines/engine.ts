/**
 * The port between the pipeline and a SQL engine: a few verbs. The pipeline's SQL (layers, checks)
 * is written in the subset DuckDB and PostgreSQL share, plus the gh_* helper functions each engine
 * defines (see sql-helpers in each adapter); everything engine-specific sits behind this interface.
 */
import { mkdirSync, mkdtempSync } from 'node:fs';
import path from 'node:path';
import type { LogicalType } from '../definition/schema.js';

export type Dialect = 'duckdb' | 'postgres';
export type Row = Record<string, string | number | boolean | null>;

/** One decoded (UTF-8) file to append to raw.<source>. */
export interface RawLoad {
  /** raw.<source> */
  table: string;
  /** The UTF-8 file to read (the original, or the decoded copy). */
  path: string;
  delimiter: string;
  /** For each column of the file, in file order: its canonical name, or null when no canonical column maps to it. */
  fileColumns: Array<string | null>;
  /** Every canonical column of the source (those missing from the file are loaded as NULL). */
  canonicalColumns: string[];
  /** How many fields a line of this file needs to reach every required column: a line with fewer is marked _short. */
  fieldsNeeded: number;
  fileId: number;
  /** Lines (1-based, header = 1) and the coercion rule Node applied to them (CP1252 decoding). */
  coercedLines: Array<{ line: number; rule: string }>;
  /** SQL over the canonical columns: district key and year of a row. */
  partition: { district: string; year: string };
}

export interface PipelineEngine {
  readonly dialect: Dialect;
  readonly description: string;
  exec(sql: string): Promise<void>;
  query(sql: string): Promise<Row[]>;
  /**
   * Makes raw.<source> ready for loads: afterwards it reads as the canonical columns (text, as in the file) and
   * _file_id, _line, _text (the line as read; NULL when rejected), _district_key, _year, _rules, _reject (why a line was
   * rejected, with its text), _short (true when the line ends before a required field). How the engine stores it is its own business. Refuses a raw table of a layout it cannot read.
   */
  prepareRaw(table: string, canonicalColumns: readonly string[]): Promise<void>;
  /**
   * Where the working copies of a file being loaded go (decoded, numbered; as large as the file, removed after it):
   * beside a DuckDB database file, with its spill files; PostgreSQL: a folder of this process in the system's temp folder.
   */
  readonly scratchDirectory: string;
  /**
   * Removes the working copies a run stopped midway left in the scratch directory (called as a run starts); returns
   * their paths. DuckDB: the gatehouse-* folders in <db>.tmp, which only the process holding the database uses.
   * PostgreSQL: the folders (gatehouse-pg-scratch-<pid> in the system's temp folder) of processes that are gone.
   */
  removeLeftoverScratch(): string[];
  /** Appends one file to its raw table; returns the data rows read and how many of them were rejected (kept with their text). */
  loadRaw(load: RawLoad): Promise<{ rows: number; rejected: number }>;
  /** Removes every row of one file from its raw table (a file that changed while it was loaded). */
  removeRawFile(table: string, fileId: number, canonicalColumns: readonly string[]): Promise<void>;
  /** CREATE TABLE name AS sql, replacing an older one. */
  createTableAs(name: string, sql: string): Promise<void>;
  /** CREATE VIEW name AS sql, replacing an older one (even one with other columns). */
  createView(name: string, sql: string): Promise<void>;
  /** A hash of a table's column names and types and of its rows, independent of the rows' order. */
  tableHash(table: string): Promise<string>;
  /** The columns of a table, with their logical types. */
  columns(table: string): Promise<Array<{ name: string; type: LogicalType | 'other'; engineType: string }>>;
  tableExists(table: string): Promise<boolean>;
  /**
   * For a signal (SIGINT, SIGTERM): stops the statement running now, or the next one if none runs, with
   * GH_PIPELINE_INTERRUPTED naming the signal; the statements after it run (so the run can be recorded interrupted). Returns false when
   * the engine cannot stop a statement: the caller exits at once instead.
   */
  interrupt(signal: string): boolean;
  /** How far the statement running now is, 0-100, when the engine can tell and was opened to track it (for a progress bar); undefined otherwise. */
  progress(): number | undefined;
  close(): Promise<void>;
}

/** Quotes a SQL string literal. */
export const literal = (value: string): string => `'${value.replace(/'/g, "''")}'`;
/** Quotes an identifier (column names from the definition are plain, but headers may not be). */
export const quoteIdentifier = (name: string): string => `"${name.replace(/"/g, '""')}"`;

/** How the name of every folder makeScratchFolder makes begins. */
export const SCRATCH_PREFIX = 'gatehouse-';

/** A new, empty folder in the engine's scratch directory (created if missing) for one file's working copies; the caller removes it. */
export function makeScratchFolder(engine: Pick<PipelineEngine, 'scratchDirectory'>, prefix: `${typeof SCRATCH_PREFIX}${string}`): string {
  mkdirSync(engine.scratchDirectory, { recursive: true });
  return mkdtempSync(path.join(engine.scratchDirectory, prefix));
}

import { closeSync, existsSync, mkdirSync, openSync, readSync, statSync } from 'node:fs';
import path from 'node:path';
import { GatehouseError } from '../../core/errors.js';
import type { PipelineEngine } from './engine.js';

export const ENGINES = ['duckdb', 'postgres'] as const;

export interface EngineChoice {
  engine: (typeof ENGINES)[number];
  /** DuckDB: the database file. */
  database?: string;
  /** DuckDB: refuse (GH_PIPELINE_NOT_LOADED) a database file that does not exist yet, rather than create it: for commands that read what runs left. */
  existing?: boolean;
  /** PostgreSQL: a connection URL. */
  url?: string;
  threads?: number;
  memoryLimit?: string;
  /** DuckDB: track each statement's progress, for a progress bar (it costs CPU; PostgreSQL reports none anyway). */
  trackProgress?: boolean;
}

/**
 * DuckDB's own default is 80% of the machine's memory; the pipeline's target is a peak RSS under
 * 8 GiB at 60M rows, so it caps DuckDB below that and lets it spill to disk (<db>.tmp) instead.
 */
export const DEFAULT_DUCKDB_MEMORY_LIMIT = '6GB';

/**
 * The least memory limit taken: DuckDB allocates blocks of ~30 MiB (a CSV reader's buffer), so a run under ~64MB fails
 * with "Out of Memory" at the first file; 100MB leaves room and still spills.
 */
export const MIN_DUCKDB_MEMORY_LIMIT = '100MB';

/** The most DuckDB worker threads taken: far past any machine's cores (a thread each costs memory and start-up; 99999 hung a run). */
export const MAX_DUCKDB_THREADS = 256;

/** Opens the chosen engine; the PostgreSQL driver is loaded only when asked for. */
export async function openEngine(choice: EngineChoice): Promise<PipelineEngine> {
  if (choice.engine === 'postgres') {
    const { PostgresEngine } = await import('./postgres.js');
    return PostgresEngine.open({ url: choice.url ?? '' });
  }
  const { DuckDbEngine } = await import('./duckdb.js');
  const database = choice.database ?? ':memory:';
  if (choice.existing && database !== ':memory:' && !existsSync(database)) {
    throw new GatehouseError('GH_PIPELINE_NOT_LOADED', `no pipeline database at ${path.resolve(database)}: run \`gatehouse pipeline run --data DIR\` first, or pass the --db of an earlier run`, { database: path.resolve(database) });
  }
  if (database !== ':memory:') {
    requireDuckDbFile(database);
    mkdirSync(path.dirname(path.resolve(database)), { recursive: true });
  }
  return DuckDbEngine.open({
    path: database,
    ...(choice.threads ? { threads: choice.threads } : {}),
    memoryLimit: choice.memoryLimit ?? DEFAULT_DUCKDB_MEMORY_LIMIT,
    ...(database !== ':memory:' ? { tempDirectory: `${path.resolve(database)}.tmp` } : {}),
    ...(choice.trackProgress ? { trackProgress: true } : {}),
  });
}

/** Where a DuckDB database file has its magic bytes. */
const DUCKDB_MAGIC = { offset: 8, bytes: Buffer.from('DUCK') };

/**
 * Refuses an existing path that is not a DuckDB database file, before anything runs: DuckDB opens
 * some such files (a .csv, say) as a throwaway in-memory database, so a run would report PUBLISHED
 * and keep nothing. A path that does not exist yet is left for DuckDB to create.
 */
function requireDuckDbFile(database: string): void {
  const file = path.resolve(database);
  if (!existsSync(file)) return;
  const header = Buffer.alloc(DUCKDB_MAGIC.offset + DUCKDB_MAGIC.bytes.length);
  let read = 0;
  try {
    if (statSync(file).isFile()) {
      const fd = openSync(file, 'r');
      try {
        read = readSync(fd, header, 0, header.length, 0);
      } finally {
        closeSync(fd);
      }
    }
  } catch (error) {
    throw new GatehouseError('GH_PIPELINE_ENGINE', `cannot read DuckDB database ${file}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`, { engine: 'duckdb', database: file }, { cause: error });
  }
  if (read < header.length || !header.subarray(DUCKDB_MAGIC.offset).equals(DUCKDB_MAGIC.bytes)) {
    throw new GatehouseError(
      'GH_PIPELINE_ENGINE',
      `${file} exists and is not a DuckDB database file (it has no "DUCK" at byte ${DUCKDB_MAGIC.offset}); nothing was run. Pass the --db of a pipeline database, or a path that does not exist yet to create one`,
      { engine: 'duckdb', database: file },
    );
  }
}

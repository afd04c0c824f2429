import { mkdirSync } from 'node:fs';
import path from 'node:path';
import type { PipelineEngine } from './engine.js';

export interface EngineChoice {
  engine: 'duckdb' | 'postgres';
  /** DuckDB: the database file. */
  database?: string;
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

/** Opens the chosen engine; the PostgreSQL driver is loaded only when asked for. */
export async function openEngine(choice: EngineChoice): Promise<PipelineEngine> {
  if (choice.engine === 'postgres') {
    const { PostgresEngine } = await import('./postgres.js');
    return PostgresEngine.open({ url: choice.url ?? '' });
  }
  const { DuckDbEngine } = await import('./duckdb.js');
  const database = choice.database ?? ':memory:';
  if (database !== ':memory:') mkdirSync(path.dirname(path.resolve(database)), { recursive: true });
  return DuckDbEngine.open({
    path: database,
    ...(choice.threads ? { threads: choice.threads } : {}),
    memoryLimit: choice.memoryLimit ?? DEFAULT_DUCKDB_MEMORY_LIMIT,
    ...(database !== ':memory:' ? { tempDirectory: `${path.resolve(database)}.tmp` } : {}),
    ...(choice.trackProgress ? { trackProgress: true } : {}),
  });
}

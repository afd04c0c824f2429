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
}

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
    ...(choice.memoryLimit ? { memoryLimit: choice.memoryLimit } : {}),
    ...(database !== ':memory:' ? { tempDirectory: `${path.resolve(database)}.tmp` } : {}),
  });
}

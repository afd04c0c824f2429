import { mkdirSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { PACKAGE_ROOT } from '../../config/load.js';
import { GatehouseError } from '../../core/errors.js';
import type { Durability } from '../../ports/event-store.js';

export type SqliteDatabase = Database.Database;

const MIGRATIONS_DIR = path.join(PACKAGE_ROOT, 'migrations', 'sqlite');

/**
 * Opens (creating if needed) the SQLite store in WAL mode, so that several local processes
 * (a `gatehouse serve`, a `gatehouse connect`, the CLI) can share it, and applies numbered
 * migrations once each.
 */
export function openSqlite(file: string, options: { durability?: Durability } = {}): SqliteDatabase {
  let db: SqliteDatabase;
  try {
    if (file !== ':memory:') mkdirSync(path.dirname(file), { recursive: true });
    db = new Database(file);
    db.pragma('journal_mode = WAL');
  } catch (error) {
    // e.g. a folder that cannot be created or written (EACCES, EROFS), or a file that is not a database.
    throw new GatehouseError('GH_STORE_UNAVAILABLE', `SQLite store ${file}: ${(error as Error).message} (check store.path in the config)`, { file }, { cause: error });
  }
  // In WAL mode, NORMAL: a commit is in the WAL file, so it survives a killed process; only an OS
  // crash or power loss can lose the last ones. FULL: the WAL is flushed to disk at every commit.
  db.pragma(`synchronous = ${options.durability === 'power' ? 'FULL' : 'NORMAL'}`);
  db.pragma('busy_timeout = 5000');
  migrate(db, file);
  return db;
}

function migrate(db: SqliteDatabase, file: string): void {
  try {
    applyMigrations(db);
  } catch (error) {
    db.close();
    // e.g. store.path names another application's database, which has an `events` table of its own.
    throw new GatehouseError('GH_STORE_UNAVAILABLE', `SQLite store ${file}: ${(error as Error).message} (is store.path the file of another application?)`, { file }, { cause: error });
  }
}

function applyMigrations(db: SqliteDatabase): void {
  db.exec('CREATE TABLE IF NOT EXISTS migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)');
  const applied = new Set(db.prepare('SELECT version FROM migrations').pluck().all() as number[]);
  const files = readdirSync(MIGRATIONS_DIR).filter((file) => /^\d+_.+\.sql$/.test(file)).sort();
  for (const file of files) {
    const version = Number.parseInt(file, 10);
    if (applied.has(version)) continue;
    const sql = readFileSync(path.join(MIGRATIONS_DIR, file), 'utf8');
    // IMMEDIATE: two processes starting together must not both apply the same migration.
    db.transaction(() => {
      const done = db.prepare('SELECT 1 FROM migrations WHERE version = ?').get(version);
      if (done) return;
      try {
        db.exec(sql);
      } catch (error) {
        throw new Error(`migration ${file} failed: ${(error as Error).message}`, { cause: error });
      }
      db.prepare('INSERT INTO migrations (version, name, applied_at) VALUES (?, ?, ?)').run(version, file, new Date().toISOString());
    }).immediate();
  }
}

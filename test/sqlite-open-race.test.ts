import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import Database from 'better-sqlite3';
import { inTempDir } from '../bench/lib/temp-dir.js';

const DATABASE_MODULE = pathToFileURL(path.join(import.meta.dirname, '../src/adapters/sqlite/database.js')).href;
const OPENERS = 6;

// Processes that open a store which does not exist yet, at the same moment (a `gatehouse serve`
// and the `gatehouse connect` of a client started with it): each must open it, and each migration
// must be applied once.
test('processes opening a fresh SQLite store at once all open it, and apply each migration once', async () => {
  await inTempDir('gatehouse-open-race', async (dir) => {
    const file = path.join(dir, 'state', 'gatehouse.db');
    const startAt = Date.now() + 1_500;
    const script = `
      const { openSqlite } = await import(${JSON.stringify(DATABASE_MODULE)});
      while (Date.now() < ${startAt}) {}
      openSqlite(${JSON.stringify(file)}).close();`;
    const runs = Array.from({ length: OPENERS }, () => {
      const child = spawn(process.execPath, ['--input-type=module', '-e', script], { stdio: ['ignore', 'ignore', 'pipe'] });
      let stderr = '';
      child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
      return new Promise<{ code: number | null; stderr: string }>((resolve) => child.once('exit', (code) => resolve({ code, stderr })));
    });
    const results = await Promise.all(runs);
    assert.deepEqual(results.map((result) => result.code), Array(OPENERS).fill(0), results.map((result) => result.stderr).join('\n'));
    const db = new Database(file, { readonly: true });
    try {
      const versions = db.prepare('SELECT version FROM migrations ORDER BY version').pluck().all() as number[];
      assert.deepEqual(versions, [...new Set(versions)], 'each migration once');
      assert.ok(versions.includes(11), `every migration applied: ${versions.join(', ')}`);
    } finally {
      db.close();
    }
  });
});

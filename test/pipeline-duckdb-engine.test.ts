import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { logicalType } from '../src/pipeline/engines/duckdb.js';
import { openEngine } from '../src/pipeline/engines/open.js';
import { inTempDir } from '../bench/lib/temp-dir.js';

/** The DuckDB engine's own verbs that the pipeline runs do not pin: table hashes, leftover scratch, type names. */
const inTemp = (work: (dir: string) => Promise<void>): Promise<void> => inTempDir('gatehouse-duckdb-engine', work);

test('tableHash: the order of rows does not count; a changed value, a renamed column or a wider type does', async () => {
  const engine = await openEngine({ engine: 'duckdb' });
  try {
    await engine.exec("CREATE TABLE main.t AS SELECT * FROM (VALUES (1, 'x'), (2, 'y')) v(a, b)");
    await engine.exec('CREATE TABLE main.reordered AS SELECT * FROM main.t ORDER BY a DESC');
    await engine.exec("CREATE TABLE main.changed AS SELECT a, CASE WHEN a = 2 THEN 'z' ELSE b END AS b FROM main.t");
    // DuckDB's hash() of a row is the same for these two (it sees neither names nor integer widths): the columns must count.
    await engine.exec('CREATE TABLE main.renamed AS SELECT a, b AS c FROM main.t');
    await engine.exec('CREATE TABLE main.widened AS SELECT a::BIGINT AS a, b FROM main.t');
    const hash = await engine.tableHash('main.t');
    assert.equal(await engine.tableHash('main.reordered'), hash);
    for (const other of ['changed', 'renamed', 'widened']) assert.notEqual(await engine.tableHash(`main.${other}`), hash, other);
  } finally {
    await engine.close();
  }
});

test('removeLeftoverScratch removes the working folders a stopped run left beside the database, and leaves DuckDB\'s own files', async () => {
  await inTemp(async (dir) => {
    const database = path.join(dir, 'p.duckdb');
    const engine = await openEngine({ engine: 'duckdb', database });
    try {
      const scratch = `${database}.tmp`;
      mkdirSync(path.join(scratch, 'gatehouse-raw-abc123'), { recursive: true });
      writeFileSync(path.join(scratch, 'gatehouse-raw-abc123', 'x.utf8'), 'x');
      writeFileSync(path.join(scratch, 'duckdb_temp_storage-0.tmp'), 'spill');
      assert.deepEqual(engine.removeLeftoverScratch(), [path.join(scratch, 'gatehouse-raw-abc123')]);
      assert.equal(existsSync(path.join(scratch, 'gatehouse-raw-abc123')), false);
      assert.equal(existsSync(path.join(scratch, 'duckdb_temp_storage-0.tmp')), true);
    } finally {
      await engine.close();
    }
  });
});

test('logicalType: the type names DuckDB gives computed columns map to the contract types', () => {
  const cases: Array<[string, string]> = [
    ['INTEGER', 'integer'], ['HUGEINT', 'integer'], ['BIGINT', 'integer'],
    ['DOUBLE', 'number'], ['DECIMAL(18,3)', 'number'], ['FLOAT', 'number'],
    ['VARCHAR', 'text'], ['BOOLEAN', 'boolean'], ['DATE', 'other'], ['TIMESTAMP', 'other'],
  ];
  for (const [engineType, type] of cases) assert.equal(logicalType(engineType), type, engineType);
});

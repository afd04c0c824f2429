import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { isGatehouseError } from '../src/core/errors.js';
import { parseDefinition } from '../src/pipeline/definition/load.js';
import { openEngine } from '../src/pipeline/engines/open.js';
import { ingest, sourceFiles } from '../src/pipeline/run/ingest.js';
import { ensureOpsTables } from '../src/pipeline/run/ops-tables.js';

/**
 * Raw's file checks on hand-written files, through ingest() on DuckDB: what the generated data sets
 * never hold (a header of no known era, a file of no data row, a line that ends before a required
 * column, one file's bytes under two sources), and which file names a source takes.
 */
const { definition } = parseDefinition(`
name: edges
sources:
  t:
    files: "t_?.txt"
    delimiter: "^"
    columns:
      code: ["Code", "CDS Code"]
      name: ["Name"]
      group_id: ["Group ID", "Subgroup ID"]
      type_id: { names: ["Type ID"], optional: true }
    eras:
      - { name: "new", header_has: ["Group ID", "Name"] }
      - { name: "legacy", header_has: ["Subgroup ID", "Type ID"] }
    partition: { district: "code", year: "2025" }
    key: [code]
  u:
    files: "u.txt"
    delimiter: "^"
    columns: { code: ["Code"] }
    partition: { district: "code", year: "2025" }
    key: [code]
layers: { stage: {}, std: {}, enrich: {}, semantic: {} }
gates:
  A:
    - { id: A.hash_match, kind: builtin, rule: hash_match, description: "bytes loaded = bytes hashed" }
    - { id: A.row_count, kind: builtin, rule: row_count, description: "at least one data row" }
    - { id: A.headers_mapped, kind: builtin, rule: headers_mapped, description: "every required column found" }
    - { id: A.layout_era, kind: builtin, rule: layout_era, description: "a known layout era" }
  B: []
  C: []
  D: []
  E: []
contracts: {}
`);

test('file names: ? is one character and a dot is a dot; a source without files is only reported, a folder of no source refused', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'gatehouse-ingest-'));
  try {
    for (const name of ['t_1.txt', 't_12.txt', 't_2xtxt', 'notes.md']) writeFileSync(path.join(dir, name), 'Code\n');
    assert.deepEqual(Object.fromEntries(sourceFiles(definition, dir)), { t: ['t_1.txt'], u: [] });
    rmSync(path.join(dir, 't_1.txt'));
    assert.throws(() => sourceFiles(definition, dir), (error: unknown) => isGatehouseError(error, 'GH_PIPELINE_DATA_MISSING') && /no file in .* belongs to a source of pipeline "edges"/.test(error.message));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('ingest: a header of no known era is refused and keeps nothing; a file of no data row fails A.row_count; a line ending before a required column is short', async () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'gatehouse-ingest-'));
  const engine = await openEngine({ engine: 'duckdb', database: path.join(dir, 'p.duckdb') });
  try {
    const data = path.join(dir, 'data');
    const files: Record<string, string> = {
      // "Note" maps to no column: a line may end before it, not before Group ID.
      't_1.txt': 'Code^Name^Group ID^Note\n01^A^1^x\n02^B\n03^C^3\n',
      // Every column maps, but "Subgroup ID" without "Type ID" is no era of the source.
      't_2.txt': 'Code^Name^Subgroup ID\n04^D^4\n',
      't_3.txt': 'Code^Name^Group ID\n',
      // A renamed header passes A.headers_mapped and is flagged as renamed.
      't_4.txt': 'CDS Code^Name^Group ID\n05^E^5\n',
      // The same bytes as t_1.txt, for another source: a file already in Raw is skipped only for the source that has it.
      'u.txt': 'Code^Name^Group ID^Note\n01^A^1^x\n02^B\n03^C^3\n',
    };
    mkdirSync(data);
    for (const [name, text] of Object.entries(files)) writeFileSync(path.join(data, name), text);
    await ensureOpsTables(engine);
    const context = { engine, definition, runId: 1, dryRun: false, progress: () => undefined, step: () => undefined };
    const results = await ingest(context, data, sourceFiles(definition, data));
    assert.deepEqual(results, [
      { source: 't', file: 't_1.txt', status: 'loaded', rows: 3 },
      { source: 't', file: 't_2.txt', status: 'refused', rows: 0, reason: 'unknown layout era' },
      { source: 't', file: 't_3.txt', status: 'loaded', rows: 0 },
      { source: 't', file: 't_4.txt', status: 'loaded', rows: 1 },
      { source: 'u', file: 'u.txt', status: 'loaded', rows: 3 },
    ]);
    const raw = await engine.query('SELECT f.path, r._line, r.code, r._short FROM raw.t r JOIN ops.raw_files f ON f.file_id = r._file_id ORDER BY f.file_id, r._line');
    assert.deepEqual(raw.map((row) => [path.basename(String(row.path)), row._line, row.code, row._short]), [
      ['t_1.txt', 2, '01', false],
      ['t_1.txt', 3, '02', true],
      ['t_1.txt', 4, '03', false],
      ['t_4.txt', 2, '05', false],
    ]);
    const checks = await engine.query(`SELECT check_id, status, rows_flagged, detail FROM ops.check_results`);
    const of = (file: string) => checks.filter((row) => String(row.detail).startsWith(`${file}: `)).map((row) => `${row.check_id} ${row.status} ${row.rows_flagged}`).sort();
    assert.deepEqual(of('t_1.txt'), ['A.hash_match pass 0', 'A.headers_mapped pass 0', 'A.layout_era pass 0', 'A.row_count pass 0']);
    assert.deepEqual(of('t_2.txt'), ['A.headers_mapped pass 1', 'A.layout_era refused 1']);
    assert.deepEqual(of('t_3.txt'), ['A.hash_match pass 0', 'A.headers_mapped pass 0', 'A.layout_era pass 0', 'A.row_count refused 1']);
    assert.deepEqual(of('t_4.txt'), ['A.hash_match pass 0', 'A.headers_mapped pass 1', 'A.layout_era pass 0', 'A.row_count pass 0']);
  } finally {
    await engine.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

/**
 * Shared by the pipeline tests on every engine: a small generated data set with faults at ten times
 * the default rates, and the comparison of what the pipeline found against what the generator
 * injected, fault kind by fault kind, line by line.
 */
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { generate, type Manifest } from '../../src/pipeline/generate/generate.js';
import { loadDefinition, type LoadedDefinition } from '../../src/pipeline/definition/load.js';
import type { PipelineEngine } from '../../src/pipeline/engines/engine.js';
import { REPO } from './gatehouse.js';

export const DEFINITION_PATH = path.join(REPO, 'examples/pipeline/ca-k12.yaml');
export const definition = (): LoadedDefinition => loadDefinition(DEFINITION_PATH);

export function smallDataSet(rows = 20_000, seed = 7, faultScale = 10): { dir: string; manifest: Manifest } {
  const dir = mkdtempSync(path.join(tmpdir(), 'gatehouse-pipeline-data-'));
  return { dir, manifest: generate({ rows, seed, outDir: dir, faultScale }) };
}

const lines = (rows: ReadonlyArray<Record<string, unknown>>) => rows.map((row) => `${path.basename(String(row.path))}:${Number(row.line)}`).sort();
const injected = (manifest: Manifest, kind: string) => {
  const record = manifest.faults[kind]!;
  assert.ok(record.linesComplete, `${kind}: the manifest holds every line`);
  return [...record.lines].sort();
};

/** Found vs injected per fault kind; asserts equality and returns the table for the report. */
export async function assertFaultsFound(engine: PipelineEngine, manifest: Manifest): Promise<Array<{ kind: string; injected: number; found: number }>> {
  const found = async (sql: string) => lines(await engine.query(sql));
  const quarantined = (rule: string) =>
    found(`SELECT f.path, q.line FROM ops.quarantine q JOIN ops.raw_files f ON f.file_id = q.file_id WHERE q.rule ${rule.includes('%') ? 'LIKE' : '='} '${rule}'`);
  const byKind: Record<string, string[]> = {
    cp1252: await found(
      ['directory', 'enrollment', 'caaspp_entities', 'caaspp'].map((source) => `SELECT f.path, r._line AS line FROM raw.${source} r JOIN ops.raw_files f ON f.file_id = r._file_id WHERE r._rules = 'A.encoding_cp1252'`).join(' UNION ALL '),
    ),
    leading_zeros_dropped: await found(
      ['directory', 'enrollment', 'caaspp_entities', 'caaspp'].map((table) => `SELECT f.path, s._line AS line FROM std.${table} s JOIN ops.raw_files f ON f.file_id = s._file_id WHERE s._rules LIKE '%C.cds_repaired%'`).join(' UNION ALL '),
    ),
    pseudo_null: await quarantined('B.strict_nulls'),
    duplicate_key: await quarantined('B.%_key_unique'),
    unknown_cds: await quarantined('C.cds_resolves'),
  };
  const table: Array<{ kind: string; injected: number; found: number }> = [];
  for (const [kind, foundLines] of Object.entries(byKind)) {
    assert.deepEqual(foundLines, injected(manifest, kind), `${kind}: the rows found are exactly the rows injected`);
    table.push({ kind, injected: manifest.faults[kind]!.count, found: foundLines.length });
  }
  const held = (await engine.query(`SELECT district_key, year FROM ops.partitions WHERE status = 'held' AND run_id = (SELECT max(run_id) FROM ops.runs)`)).map((row) => `${row.district_key}:${row.year}`).sort();
  assert.deepEqual(held, [...manifest.faults.hierarchy_mismatch!.partitions!].sort(), 'the partitions held back are those whose schools do not sum to the district');
  table.push({ kind: 'hierarchy_mismatch', injected: manifest.faults.hierarchy_mismatch!.count, found: held.length });
  const renamed = (await engine.query('SELECT path, renamed FROM ops.raw_files ORDER BY file_id')).flatMap((row) =>
    (JSON.parse(String(row.renamed)) as Array<{ header: string; published: string }>).map((entry) => ({ file: path.basename(String(row.path)), from: entry.published, to: entry.header })),
  );
  const sortKey = (entry: { file: string; from: string }) => `${entry.file}:${entry.from}`;
  assert.deepEqual(renamed.sort((x, y) => sortKey(x).localeCompare(sortKey(y))), [...(manifest.faults.renamed_header!.headers as typeof renamed)].sort((x, y) => sortKey(x).localeCompare(sortKey(y))));
  table.push({ kind: 'renamed_header', injected: manifest.faults.renamed_header!.count, found: renamed.length });
  return table;
}

/** Every raw row has exactly one disposition (pass, coerced or quarantined). */
export async function assertEveryRowDisposed(engine: PipelineEngine, manifest: Manifest): Promise<void> {
  const [raw] = await engine.query('SELECT sum(rows) AS n FROM ops.raw_files');
  assert.equal(Number(raw!.n), manifest.counts.rows, 'Raw holds every data row of every file');
  const [dispositions] = await engine.query('SELECT count(*) AS n, count(DISTINCT (file_id * 10000000000 + line)) AS distinct_rows FROM ops.dispositions');
  assert.equal(Number(dispositions!.n), manifest.counts.rows, 'one disposition per raw row');
  assert.equal(Number(dispositions!.distinct_rows), manifest.counts.rows, 'no row has two dispositions');
}

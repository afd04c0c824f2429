import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseDefinition } from '../src/pipeline/definition/load.js';
import { openEngine } from '../src/pipeline/engines/open.js';
import { writeReferenceTables } from '../src/pipeline/run/layers.js';
import { ensureOpsTables } from '../src/pipeline/run/ops-tables.js';

/** Reference tables written from the definition, on DuckDB: an empty one, and one whose column changed type. */
const definitionWith = (reference: string) =>
  parseDefinition(`
name: refs
sources: {}
reference:
${reference}
layers: { stage: {}, std: {}, enrich: {}, semantic: {} }
gates: { A: [], B: [], C: [], D: [], E: [] }
contracts: {}
`).definition;

test('a reference table of no rows is created empty; one whose column changed type is rebuilt with the new type', async () => {
  const engine = await openEngine({ engine: 'duckdb' });
  try {
    await ensureOpsTables(engine);
    const context = (reference: string) => ({ engine, definition: definitionWith(reference), runId: 1, dryRun: false, progress: () => undefined, step: () => undefined });
    await writeReferenceTables(context('  codes: { columns: { code: text, label: text }, rows: [] }'), 'raw');
    assert.deepEqual(await engine.query('SELECT * FROM ref.codes'), []);
    assert.deepEqual((await engine.columns('ref.codes')).map((column) => column.type), ['text', 'text']);

    await writeReferenceTables(context('  codes: { columns: { code: text, label: text }, rows: [["07", "seven"]] }'), 'raw');
    // The same names, code now an integer: "07" must be read as 7, not kept as text.
    await writeReferenceTables(context('  codes: { columns: { code: integer, label: text }, rows: [[7, "seven"]] }'), 'std');
    assert.deepEqual((await engine.columns('ref.codes')).map((column) => column.type), ['integer', 'text']);
    assert.deepEqual(await engine.query('SELECT * FROM ref.codes'), [{ code: 7, label: 'seven' }]);
  } finally {
    await engine.close();
  }
});

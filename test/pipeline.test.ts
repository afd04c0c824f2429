import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { cpSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import iconv from 'iconv-lite';
import { isGatehouseError } from '../src/core/errors.js';
import { dispositionSql, rowRulesFor, type RowRule } from '../src/pipeline/core/check-sql.js';
import { parseDefinition } from '../src/pipeline/definition/load.js';
import { sourceSchema } from '../src/pipeline/definition/schema.js';
import type { PipelineEngine } from '../src/pipeline/engines/engine.js';
import { openEngine } from '../src/pipeline/engines/open.js';
import { generate } from '../src/pipeline/generate/generate.js';
import { mapHeader } from '../src/pipeline/raw/header.js';
import { runPipeline } from '../src/pipeline/run/run.js';
import { CLI, runCli } from './helpers/gatehouse.js';
import { assertEveryRowDisposed, assertFaultsFound, definition, DEFINITION_PATH, smallDataSet } from './helpers/pipeline.js';

const quiet = { progress: () => undefined };
const temp = () => mkdtempSync(path.join(tmpdir(), 'gatehouse-pipeline-'));
const sha = (dir: string) => Object.fromEntries(readdirSync(dir).sort().map((name) => [name, createHash('sha256').update(readFileSync(path.join(dir, name))).digest('hex')]));

describe('pipeline generator', () => {
  test('the same seed writes the same bytes; another seed other bytes; the manifest counts every row', () => {
    const a = temp();
    const b = temp();
    const c = temp();
    try {
      const manifest = generate({ rows: 5_000, seed: 3, outDir: a, faultScale: 10 });
      generate({ rows: 5_000, seed: 3, outDir: b, faultScale: 10 });
      generate({ rows: 5_000, seed: 4, outDir: c, faultScale: 10 });
      assert.deepEqual(sha(a), sha(b));
      assert.notDeepEqual(sha(a), sha(c));
      for (const file of manifest.files) {
        const lineCount = readFileSync(path.join(a, file.file)).toString('latin1').split('\n').length - 2; // header and the last newline
        assert.equal(lineCount, file.rows, file.file);
      }
      assert.ok(readFileSync(path.join(a, 'pubschls.txt'), 'latin1').includes('No Data'));
      assert.match(readFileSync(path.join(a, 'sb_ca2025_all_csv_v1.txt'), 'latin1').split('\n')[0]!, /^County Code\^District Code\^School Code\^Filler\^Test Year\^Student Group ID/);
      // A CP1252 fault line holds a byte that is not UTF-8 (0x97 em dash, 0xE9 é, 0xF1 ñ…).
      const [file, line] = manifest.faults.cp1252!.lines[0]!.split(':') as [string, string];
      const bytes = readFileSync(path.join(a, file)).toString('latin1').split('\n')[Number(line) - 1]!;
      assert.match(bytes, /[\x80-\xff]/);
      assert.ok(!Buffer.from(bytes, 'latin1').equals(Buffer.from(iconv.decode(Buffer.from(bytes, 'latin1'), 'win1252'), 'utf8')));
    } finally {
      for (const dir of [a, b, c]) rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('pipeline on DuckDB', () => {
  let data: ReturnType<typeof smallDataSet>;
  let work: string;
  let engine: PipelineEngine;
  before(async () => {
    data = smallDataSet();
    work = temp();
    engine = await openEngine({ engine: 'duckdb', database: path.join(work, 'pipeline.duckdb') });
  });
  after(async () => {
    await engine.close();
    rmSync(data.dir, { recursive: true, force: true });
    rmSync(work, { recursive: true, force: true });
  });

  test('a run finds exactly the injected faults, disposes of every row, and holds back the failing districts', async () => {
    const report = await runPipeline(engine, definition(), { dataDir: data.dir, ...quiet });
    assert.equal(report.status, 'published');
    const found = await assertFaultsFound(engine, data.manifest);
    for (const entry of found) assert.ok(entry.injected > 0, `${entry.kind} was injected at least once`);
    await assertEveryRowDisposed(engine, data.manifest);
    for (const gate of report.gates) assert.equal(gate.rowsIn, gate.promoted + gate.quarantined, `${gate.gate} ${gate.table}`);
    const checks = await engine.query('SELECT DISTINCT check_id FROM ops.check_results');
    assert.ok(checks.length >= 25, `${checks.length} named checks`);
    // Every row and partition check has a result per partition (district × year), passes included.
    const [perPartition] = await engine.query(
      `SELECT count(*) AS n FROM ops.check_results WHERE check_id = 'D.hierarchy_school_district' AND run_id = ${report.runId}`,
    );
    const [partitions] = await engine.query('SELECT count(*) AS n FROM (SELECT DISTINCT _district_key, _year FROM enrich.enrollment UNION SELECT DISTINCT _district_key, _year FROM enrich.caaspp UNION SELECT DISTINCT _district_key, _year FROM enrich.directory UNION SELECT DISTINCT _district_key, _year FROM enrich.caaspp_entities) p');
    assert.equal(Number(perPartition!.n), Number(partitions!.n));
    // Held districts publish nothing; the other districts of the same year do.
    const held = data.manifest.faults.hierarchy_mismatch!.partitions!;
    for (const partition of held) {
      const [district, year] = partition.split(':') as [string, string];
      const [rows] = await engine.query(`SELECT count(*) AS n FROM final.enrollment WHERE _district_key = '${district}' AND _year = ${year}`);
      assert.equal(Number(rows!.n), 0, `${partition} is held back`);
      const [others] = await engine.query(`SELECT count(*) AS n FROM final.enrollment WHERE _district_key <> '${district}' AND _year = ${year} AND aggregate_level = 'S'`);
      assert.ok(Number(others!.n) > 0);
    }
    // Quarantined rows keep their raw text: the line as the file has it (decoded to UTF-8).
    const samples = await engine.query(`SELECT f.path, q.line, q.raw_text FROM ops.quarantine q JOIN ops.raw_files f ON f.file_id = q.file_id WHERE q.rule IN ('B.strict_nulls', 'C.cds_resolves') ORDER BY q.quarantine_id LIMIT 20`);
    assert.ok(samples.length > 0);
    for (const sample of samples) {
      const fileLines = readFileSync(String(sample.path), 'utf8').split('\n');
      assert.equal(sample.raw_text, fileLines[Number(sample.line) - 1]);
    }
    // CP1252 decoded: the em dash and accents are the directory's spelling again.
    const [names] = await engine.query(`SELECT count(*) FILTER (WHERE NOT name_matches) AS mismatched, count(*) FILTER (WHERE entity_name LIKE '%—%') AS dashes FROM enrich.enrollment`);
    assert.equal(Number(names!.mismatched), 0);
  });

  test('running the same files again skips them, and a replay from any layer gives byte-identical Final tables', async () => {
    const before = await runPipeline(engine, definition(), { dataDir: data.dir, ...quiet });
    assert.ok(before.files.every((file) => file.status === 'skipped'));
    assert.deepEqual(before.finalAfter, before.finalBefore);
    for (const from of ['raw', 'stage', 'std', 'enrich', 'semantic'] as const) {
      const replay = await runPipeline(engine, definition(), { from, ...quiet });
      assert.equal(replay.status, 'published');
      assert.deepEqual(replay.finalAfter, before.finalAfter, `replay from ${from}`);
    }
    await assertFaultsFound(engine, data.manifest);
  });

  test('Enrich and Semantic are views; tables an older run left in their place are replaced, Final unchanged', async () => {
    const layerTypes = async () =>
      (await engine.query(`SELECT table_schema || '.' || table_name AS name, table_type FROM information_schema.tables WHERE table_schema IN ('stage', 'std', 'enrich', 'semantic') ORDER BY 1`)) as Array<{ name: string; table_type: string }>;
    const types = await layerTypes();
    assert.ok(types.length >= 12);
    for (const { name, table_type } of types) assert.equal(table_type, /^(enrich|semantic)\./.test(name) ? 'VIEW' : 'BASE TABLE', name);
    const [published] = await engine.query('SELECT max(run_id) AS id FROM ops.runs');
    const [{ final_hashes: expected } = {}] = await engine.query(`SELECT final_hashes FROM ops.runs WHERE run_id = ${Number(published!.id)}`);
    // As a run before these layers were views left them: a base table of the same rows under each name.
    for (const { name } of types.filter((entry) => entry.table_type === 'VIEW')) {
      const [schema, table] = name.split('.') as [string, string];
      await engine.exec(`CREATE TABLE ${schema}.old_${table} AS SELECT * FROM ${name}`);
      await engine.exec(`DROP VIEW ${name}`);
      await engine.exec(`ALTER TABLE ${schema}.old_${table} RENAME TO ${table}`);
    }
    assert.ok((await layerTypes()).every((entry) => entry.table_type === 'BASE TABLE'));
    const replay = await runPipeline(engine, definition(), { from: 'std', ...quiet });
    assert.equal(replay.status, 'published');
    assert.deepEqual(await layerTypes(), types);
    assert.equal(JSON.stringify(replay.finalAfter), expected);
  });

  test('reference tables follow the definition: new rows replace the old ones, new columns rebuild the table', async () => {
    const counties = async () => (await engine.query('SELECT * FROM ref.counties ORDER BY county_code')) as Array<Record<string, unknown>>;
    const original = await counties();
    // A copy: the loaded definition is frozen.
    const editable = () => ({ ...definition(), definition: structuredClone(definition().definition) });
    const changed = editable();
    changed.definition.reference.counties!.rows.push(['99', 'Nowhere']);
    await runPipeline(engine, changed, { from: 'semantic', ...quiet });
    assert.deepEqual(await counties(), [...original, { county_code: '99', county_name: 'Nowhere' }]);
    const widened = editable();
    const table = widened.definition.reference.counties!;
    table.columns = { ...table.columns, region: 'text' };
    table.rows = table.rows.map((row) => [...row, 'CA']);
    // A replay that keeps Enrich as it is cannot follow a change of columns: refused, nothing dropped.
    for (const from of ['enrich', 'semantic'] as const) {
      await assert.rejects(runPipeline(engine, widened, { from, ...quiet }), (error: Error & { code?: string }) =>
        error.code === 'GH_PIPELINE_NOT_LOADED' && error.message === `cannot start at ${from}: the columns of ref.counties changed in the definition, and the Enrich layer is built on them; replay from std (or earlier) to rebuild it`);
    }
    assert.deepEqual(await counties(), [...original, { county_code: '99', county_name: 'Nowhere' }]);
    // The columns changed, so the table is rebuilt, and the Enrich views that join it are rebuilt after it.
    const replay = await runPipeline(engine, widened, { from: 'std', ...quiet });
    assert.equal(replay.status, 'published');
    assert.deepEqual(await counties(), original.map((row) => ({ ...row, region: 'CA' })));
    await runPipeline(engine, definition(), { from: 'std', ...quiet });
    assert.deepEqual(await counties(), original);
  });

  test('an error in the definition\'s SQL names the layer table or the check it is in', async () => {
    const fresh = await openEngine({ engine: 'duckdb', database: path.join(work, 'typos.duckdb') });
    try {
      const editable = () => ({ ...definition(), definition: structuredClone(definition().definition) });
      const refused = async (edit: (d: ReturnType<typeof editable>['definition']) => void, place: string) => {
        const typo = editable();
        edit(typo.definition);
        await assert.rejects(runPipeline(fresh, typo, { dataDir: data.dir, ...quiet }), (error: Error & { code?: string }) => {
          assert.equal(error.code, 'GH_PIPELINE_ENGINE');
          assert.ok(error.message.startsWith(`${place}: the SQL engine refused a statement: `), error.message);
          assert.match(error.message, /students_enroled/);
          return true;
        });
      };
      const rowCheck = (d: ReturnType<typeof editable>['definition']) => d.gates.B.find((check) => check.id === 'B.types')! as { when: string };
      await refused((d) => void (rowCheck(d).when = 'students_enroled < 0'), 'gate B on stage.directory, check B.types');
      await refused((d) => void (d.layers.std.caaspp = d.layers.std.caaspp!.replace('c.students_enrolled', 'c.students_enroled')), 'std.caaspp (layers.std.caaspp of the definition)');
      const coverage = (d: ReturnType<typeof editable>['definition']) => d.gates.C.find((check) => check.id === 'C.crosswalk_coverage')! as { sql: string };
      await refused((d) => void (coverage(d).sql = 'SELECT _district_key, _year, 1.0 AS observed, students_enroled > 0 AS ok FROM std.caaspp'), 'gate C, check C.crosswalk_coverage');
    } finally {
      await fresh.close();
    }
  });

  test('a dry run writes nothing to Final', async () => {
    const fresh = await openEngine({ engine: 'duckdb', database: path.join(work, 'dry.duckdb') });
    try {
      const report = await runPipeline(fresh, definition(), { dataDir: data.dir, dryRun: true, ...quiet });
      assert.equal(report.status, 'dry-run');
      assert.ok(report.gates.some((gate) => gate.gate === 'E' && gate.promoted > 0), 'it says what would be promoted');
      for (const table of ['enrollment', 'assessment', 'schools', 'assessment_entities']) assert.equal(await fresh.tableExists(`final.${table}`), false);
    } finally {
      await fresh.close();
    }
  });

  test('a held partition keeps its last published rows; a released one publishes', async () => {
    const [partition] = data.manifest.faults.hierarchy_mismatch!.partitions!;
    const [district, year] = partition!.split(':') as [string, string];
    await engine.exec(`INSERT INTO ops.releases VALUES (999, 'D.hierarchy_school_district', NULL, NULL, '${district}', ${year}, 'test', 'test', 'now')`);
    await runPipeline(engine, definition(), { from: 'enrich', ...quiet });
    const published = await engine.query(`SELECT count(*) AS n FROM final.enrollment WHERE _district_key = '${district}' AND _year = ${year}`);
    assert.ok(Number(published[0]!.n) > 0, 'released: published');
    // Held in earlier runs but not in this one: its rows are replaced, not kept beside the new ones.
    await runPipeline(engine, definition(), { from: 'enrich', ...quiet });
    assert.deepEqual(await engine.query(`SELECT count(*) AS n FROM final.enrollment WHERE _district_key = '${district}' AND _year = ${year}`), published);
    await engine.exec('DELETE FROM ops.releases WHERE release_id = 999');
    const report = await runPipeline(engine, definition(), { from: 'enrich', ...quiet });
    assert.ok(report.held.some((held) => held.district_key === district && held.year === Number(year)), 'held again');
    const kept = await engine.query(`SELECT count(*) AS n FROM final.enrollment WHERE _district_key = '${district}' AND _year = ${year}`);
    assert.equal(Number(kept[0]!.n), Number(published[0]!.n), 'held: the last published rows stay in Final');
    const [semantic] = await engine.query(`SELECT count(*) AS n FROM semantic.enrollment WHERE _district_key = '${district}' AND _year = ${year}`);
    assert.equal(Number(semantic!.n), 0, 'held: none of this run\'s rows were promoted');
  });

  test('gate E refuses to remove or retype a published column unless the contract version changes', async () => {
    const text = readFileSync(DEFINITION_PATH, 'utf8');
    const removed = text
      .replace('county_name_ref AS county_name, district, school, city', 'county_name_ref AS county_name, district, school')
      .replace('school: text, city: text, zip: text', 'school: text, zip: text');
    assert.notEqual(removed, text);
    const before = (await engine.query('SELECT count(*) AS n FROM final.schools'))[0]!.n;
    await assert.rejects(runPipeline(engine, parseDefinition(removed), { from: 'enrich', ...quiet }), (error: unknown) => {
      assert.ok(isGatehouseError(error, 'GH_PIPELINE_CONTRACT'));
      assert.match(error.message, /removes city without a new contract version/);
      return true;
    });
    assert.equal((await engine.columns('final.schools')).some((column) => column.name === 'city'), true, 'Final unchanged');
    assert.equal((await engine.query('SELECT count(*) AS n FROM final.schools'))[0]!.n, before);
    const retyped = text.replace('latitude, longitude,\n        _district_key', 'CAST(latitude AS VARCHAR) AS latitude, longitude,\n        _district_key').replace('latitude: number', 'latitude: text');
    await assert.rejects(runPipeline(engine, parseDefinition(retyped), { from: 'enrich', ...quiet }), /retypes latitude \(number → text\)/);
    const bumped = removed.replace(/(schools:\n {4}version: )1/, '$12');
    const report = await runPipeline(engine, parseDefinition(bumped), { from: 'enrich', ...quiet });
    assert.equal(report.status, 'published');
    assert.equal((await engine.columns('final.schools')).some((column) => column.name === 'city'), false);
    // Back to the full contract: adding a column back under version 2 is compatible.
    const restored = text.replace(/(schools:\n {4}version: )1/, '$12');
    assert.equal((await runPipeline(engine, parseDefinition(restored), { from: 'enrich', ...quiet })).status, 'published');
    // A key that is not unique in Semantic: three schools twice.
    const doubled = restored.replace(
      '      FROM enrich_passed.directory\n',
      '      FROM (SELECT * FROM enrich_passed.directory UNION ALL (SELECT * FROM enrich_passed.directory ORDER BY cds_code LIMIT 3))\n',
    );
    assert.notEqual(doubled, restored);
    const hashes = (await runPipeline(engine, parseDefinition(restored), { from: 'semantic', ...quiet })).finalAfter;
    await assert.rejects(runPipeline(engine, parseDefinition(doubled), { from: 'enrich', ...quiet }), (error: unknown) => {
      assert.ok(isGatehouseError(error, 'GH_PIPELINE_CONTRACT'));
      assert.match(error.message, /^gate E refused to publish: schools: E\.contract_key_unique 3 duplicated key\(s\)$/);
      return true;
    });
    const after = await runPipeline(engine, parseDefinition(restored), { from: 'enrich', ...quiet });
    assert.deepEqual(after.finalBefore, hashes, 'Final unchanged by the refused run');
    assert.deepEqual(after.finalAfter, hashes);
    // Gate E judges against the contract last published: one per table, replaced by each publication.
    const contracts = await engine.query('SELECT table_name, version FROM ops.contracts ORDER BY table_name');
    assert.deepEqual(contracts, [['assessment', 1], ['assessment_entities', 1], ['enrollment', 1], ['schools', 2]].map(([table_name, version]) => ({ table_name, version })));
  });

  test('a failing warn check holds nothing back; a partition failing two hold checks is held by the first listed; drift and an empty table warn', async () => {
    const [partition] = data.manifest.faults.hierarchy_mismatch!.partitions!;
    const [district, year] = partition!.split(':') as [string, string];
    // The test before published version 2 of the schools contract.
    const current = parseDefinition(readFileSync(DEFINITION_PATH, 'utf8').replace(/(schools:\n {4}version: )1/, '$12'));
    const edited = { ...current, definition: structuredClone(current.definition) };
    const perPartition = (ok: string) => `SELECT _district_key, _year, 1.0 AS observed, ${ok} AS ok FROM enrich.enrollment GROUP BY _district_key, _year`;
    edited.definition.gates.D.push(
      { id: 'D.test_warns_everywhere', kind: 'partition', action: 'warn', description: 'fails every partition, only to warn', sql: perPartition('false') },
      { id: 'D.test_second_hold', kind: 'partition', action: 'hold', description: 'fails a partition that an earlier hold check fails too', sql: perPartition(`NOT (_district_key = '${district}' AND _year = ${year})`) },
    );
    const semantic = edited.definition.layers.semantic;
    semantic.assessment_entities = `SELECT * FROM (${semantic.assessment_entities}) s WHERE false`;
    // The biggest partition of enrollment not held back loses half its rows since the last run: more than D.drift's 25%.
    const heldBack = data.manifest.faults.hierarchy_mismatch!.partitions!.map((entry) => `'${entry}'`).join(', ');
    const [biggest] = await engine.query(
      `SELECT _district_key AS district, _year AS year, count(*) AS n FROM std.enrollment WHERE _district_key || ':' || _year NOT IN (${heldBack}) GROUP BY 1, 2 ORDER BY 3 DESC, 1, 2 LIMIT 1`,
    );
    await engine.exec(`DELETE FROM std.enrollment WHERE _district_key = '${String(biggest!.district)}' AND _year = ${Number(biggest!.year)} AND _line % 2 = 0`);

    const report = await runPipeline(engine, edited, { from: 'enrich', ...quiet });
    assert.equal(report.status, 'published', 'an empty table warns, it does not refuse the publication');
    const result = async (check: string, where = '') =>
      engine.query(`SELECT district_key, year, status, observed FROM ops.check_results WHERE run_id = ${report.runId} AND check_id = '${check}' ${where}`);
    const warned = await result('D.test_warns_everywhere');
    assert.ok(warned.some((row) => row.status === 'warn') && warned.every((row) => row.status === 'warn' || row.status === 'pass'), 'partitions the check did not judge pass it');
    const heldRules = await engine.query(`SELECT DISTINCT rule FROM ops.partitions WHERE run_id = ${report.runId} AND status = 'held'`);
    assert.ok(!heldRules.some((row) => row.rule === 'D.test_warns_everywhere'), `held by: ${JSON.stringify(heldRules)}`);
    const [held] = await engine.query(`SELECT rule FROM ops.partitions WHERE run_id = ${report.runId} AND status = 'held' AND district_key = '${district}' AND year = ${year}`);
    assert.equal(held?.rule, 'D.hierarchy_school_district', 'the first hold check of the gate names the hold');
    assert.deepEqual((await result('D.test_second_hold', `AND district_key = '${district}' AND year = ${year}`)).map((row) => row.status), ['held'], 'the second is in the ledger all the same');
    const [drift] = await result('D.drift', `AND district_key = '${String(biggest!.district)}' AND year = ${Number(biggest!.year)}`);
    assert.equal(drift?.status, 'warn', JSON.stringify(drift));
    assert.ok(Number(drift!.observed) > 0.25);
    const [empty] = await engine.query(`SELECT status FROM ops.check_results WHERE run_id = ${report.runId} AND check_id = 'E.not_empty' AND table_name = 'assessment_entities'`);
    assert.equal(empty?.status, 'warn');
  });
});

describe('gate row dispositions on DuckDB', () => {
  test("a row is quarantined by its first failing quarantine check, else by its partition's hold; coerce and warn checks only count; a release waives only the rule it names", async () => {
    const work = temp();
    const engine = await openEngine({ engine: 'duckdb', database: path.join(work, 'dispositions.duckdb') });
    try {
      await engine.exec('CREATE SCHEMA IF NOT EXISTS std');
      await engine.exec('CREATE TABLE std.sample (_file_id INTEGER, _line BIGINT, _district_key VARCHAR, _year INTEGER, v INTEGER)');
      const values: Array<[number, string, number]> = [[1, 'd1', 5], [2, 'd1', -3], [3, 'd1', -20], [4, 'd1', 200], [5, 'd2', 4], [6, 'd2', -3], [7, 'd1', -20], [8, 'd1', -20]];
      await engine.exec(`INSERT INTO std.sample VALUES ${values.map(([line, partition, v]) => `(1, ${line}, '${partition}', 2024, ${v})`).join(', ')}`);
      await engine.exec(`CREATE TABLE test_held AS SELECT 'd2' AS district_key, 2024 AS year, 'X.partition_hold' AS rule`);
      await engine.exec('CREATE SCHEMA IF NOT EXISTS ops');
      await engine.exec('CREATE TABLE IF NOT EXISTS ops.releases (release_id INTEGER, rule VARCHAR, file_id INTEGER, line BIGINT)');
      await engine.exec(`INSERT INTO ops.releases (release_id, rule, file_id, line) VALUES (1, 'X.negative', 1, 7), (2, 'X.negative_large', 1, 8)`);
      const rules: RowRule[] = [
        { id: 'X.negative', kind: 'row', action: 'quarantine', when: '(v < 0)' },
        { id: 'X.odd', kind: 'row', action: 'coerce', when: '(v % 2 <> 0)' },
        { id: 'X.negative_large', kind: 'row', action: 'quarantine', when: '(v < -10)' },
        { id: 'X.large', kind: 'row', action: 'warn', when: '(v > 100)' },
      ];
      const dispositions = async (rowReleases: boolean) =>
        (await engine.query(`SELECT _line, rule FROM (${dispositionSql('std.sample', rules, 'test_held', rowReleases)}) x ORDER BY _line`)).map((row) => row.rule ?? null);
      assert.deepEqual(await dispositions(false), [null, 'X.negative', 'X.negative', null, 'X.partition_hold', 'X.negative', 'X.negative', 'X.negative']);
      // Line 7 released from X.negative still fails X.negative_large; line 8 released from X.negative_large still fails X.negative.
      assert.deepEqual(await dispositions(true), [null, 'X.negative', 'X.negative', null, 'X.partition_hold', 'X.negative', 'X.negative_large', 'X.negative']);

      // Gate A's row_shape: a line with too many fields (rejected at load) and one that ends before a required field (short).
      await engine.exec('CREATE SCHEMA IF NOT EXISTS raw');
      await engine.exec(`CREATE TABLE raw.sample AS SELECT * FROM (VALUES (1, 1, 'd1', 2024, NULL, false), (1, 2, 'd1', 2024, 'TOO MANY COLUMNS: a^b^c', false), (1, 3, 'd1', 2024, NULL, true)) v(_file_id, _line, _district_key, _year, _reject, _short)`);
      const shape = [{ id: 'A.row_shape', kind: 'builtin', rule: 'row_shape', description: 'a row has as many fields as its header' }] as const;
      const source = definition().definition.sources.directory;
      const shapeRules = rowRulesFor(shape, 'sample', source);
      const shapes = await engine.query(`SELECT _line, rule FROM (${dispositionSql('raw.sample', shapeRules, null)}) x ORDER BY _line`);
      assert.deepEqual(shapes.map((row) => row.rule ?? null), [null, 'A.row_shape', 'A.row_shape']);
      assert.deepEqual(rowRulesFor(shape, 'sample', undefined), [], 'a layer table past Raw has no row shape to judge');
    } finally {
      await engine.close();
      rmSync(work, { recursive: true, force: true });
    }
  });
});


describe('pipeline layout eras', () => {
  test('columns are mapped by header name in any order, across eras and renames', () => {
    const source = sourceSchema.parse(parseDefinition(readFileSync(DEFINITION_PATH, 'utf8')).definition.sources.caaspp);
    const legacy = ['Type ID', 'Test Id', 'Grade', 'Subgroup ID', 'County Code', 'CAASPP Reported Enrollment', 'District Code', 'School Code', 'Filler', 'Test Year', 'Test Type', 'Total Tested At Entity Level', 'Total Tested with Scores', 'Students Tested', 'Mean Scale Score', 'Percentage Standard Exceeded', 'Percentage Standard Met', 'Percentage Standard Met and Above', 'Percentage Standard Nearly Met', 'Percentage Standard Not Met', ...[1, 2, 3, 4].flatMap((area) => ['Above', 'Near', 'Below'].map((level) => `Area ${area} Percentage ${level} Standard`)), 'Extra Column'];
    const mapping = mapHeader(legacy, source);
    assert.equal(mapping.era, 'legacy');
    assert.deepEqual(mapping.missing, []);
    assert.equal(mapping.fileColumns[3], 'student_group_id');
    assert.equal(mapping.fileColumns[5], 'students_enrolled');
    assert.equal(mapping.fileColumns[0], 'type_id');
    assert.deepEqual(mapping.unknown, ['Extra Column']);
    const broken = mapHeader(legacy.filter((name) => name !== 'County Code'), source);
    assert.deepEqual(broken.missing, ['county_code']);
  });

  test('a legacy-era file with its columns in another order loads to the same Final rows', async () => {
    const data = smallDataSet(8_000, 11, 0);
    const shuffled = temp();
    const work = temp();
    try {
      cpSync(data.dir, shuffled, { recursive: true });
      const file = path.join(shuffled, 'sb_ca2024_all_csv_v1.txt');
      const rows = readFileSync(file, 'utf8').trimEnd().split('\n').map((line) => line.split('^'));
      const header = rows[0]!.map((name) => (name === 'Student Group ID' ? 'Subgroup ID' : name === 'Students Enrolled' ? 'CAASPP Reported Enrollment' : name));
      const order = header.map((_, index) => index).reverse();
      const legacy = [['Type ID', ...order.map((index) => header[index]!)], ...rows.slice(1).map((row) => ['07', ...order.map((index) => row[index]!)])];
      writeFileSync(file, legacy.map((row) => row.join('^')).join('\n') + '\n');
      const digest = async (dir: string, name: string) => {
        const engine = await openEngine({ engine: 'duckdb', database: path.join(work, name) });
        try {
          await runPipeline(engine, definition(), { dataDir: dir, ...quiet });
          const [row] = await engine.query('SELECT count(*) AS n, sum(students_tested) AS tested, sum(CAST(round(mean_scale_score * 10) AS BIGINT)) AS score, sum(student_group_id * grade) AS groups FROM final.assessment WHERE school_year = 2024');
          return row;
        } finally {
          await engine.close();
        }
      };
      const original = await digest(data.dir, 'a.duckdb');
      assert.ok(Number(original!.n) > 0);
      assert.deepEqual(await digest(shuffled, 'b.duckdb'), original);
    } finally {
      for (const dir of [data.dir, shuffled, work]) rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('pipeline CLI', () => {
  test('every command has --help; generate, run --dry-run, run, status, quarantine list, replay', () => {
    for (const command of [['generate'], ['run'], ['status'], ['replay'], ['quarantine', 'list'], ['quarantine', 'release']]) {
      const result = runCli(['pipeline', ...command, '--help']);
      assert.equal(result.status, 0, command.join(' '));
      assert.match(result.stdout, /Usage: gatehouse pipeline/);
    }
    const work = temp();
    try {
      const data = path.join(work, 'data');
      const common = ['--definition', DEFINITION_PATH, '--db', path.join(work, 'p.duckdb')];
      const generated = runCli(['pipeline', 'generate', '--rows', '6000', '--seed', '5', '--out', data, '--fault-scale', '10']);
      assert.equal(generated.status, 0, generated.stderr);
      assert.match(generated.stdout, /pseudo_null\s+\d+/);
      assert.match(generated.stdout, /cp1252\s+[1-9]/);
      // The first run loads Raw. Its working copies (CP1252 files decoded, lines numbered) go beside the database, not to the system's temp folder.
      const dry = runCli(['pipeline', 'run', '--data', data, '--dry-run', ...common], { TMPDIR: path.join(work, 'no-such-folder') });
      assert.equal(dry.status, 0, dry.stderr);
      assert.deepEqual(readdirSync(work).filter((name) => name.includes('no-such-folder')), []);
      assert.equal(existsSync(path.join(work, 'p.duckdb.tmp')), false, 'nothing left behind, not even the empty folder');
      assert.match(dry.stdout, /DRY-RUN/);
      assert.match(dry.stdout, /rows per gate \(in = promoted \+ quarantined\)/);
      const run = runCli(['pipeline', 'run', '--data', data, ...common]);
      assert.equal(run.status, 0, run.stderr);
      assert.match(run.stdout, /PUBLISHED/);
      assert.match(run.stdout, /B\s+B\.strict_nulls/);
      const status = runCli(['pipeline', 'status', ...common]);
      assert.equal(status.status, 0, status.stderr);
      assert.match(status.stdout, /checks that did not pass everywhere/);
      const listing = runCli(['pipeline', 'quarantine', 'list', '--rule', 'B.strict_nulls', '--json', ...common]);
      assert.equal(listing.status, 0, listing.stderr);
      const parsed = JSON.parse(listing.stdout) as { total: number; rows: Array<{ raw_text: string }> };
      assert.ok(parsed.total > 0);
      assert.match(parsed.rows[0]!.raw_text, /\b(NA|N\/A|-|\.|n\/a|NULL)\b/);
      const replay = runCli(['pipeline', 'replay', '--from', 'stage', ...common]);
      assert.equal(replay.status, 0, replay.stderr);
      assert.match(replay.stdout, /replay: Final tables byte-identical/);
    } finally {
      rmSync(work, { recursive: true, force: true });
    }
    assert.ok(CLI);
  });
});

/** The same pipeline on PostgreSQL, against a real cluster this file starts on a loopback port. */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import type { PipelineEngine } from '../src/pipeline/engines/engine.js';
import { openEngine } from '../src/pipeline/engines/open.js';
import { listQuarantine, pipelineStatus, releaseQuarantined } from '../src/pipeline/run/inspect.js';
import { runPipeline } from '../src/pipeline/run/run.js';
import { postgresForThisFile } from './helpers/postgres.js';
import { assertEveryRowDisposed, assertFaultsFound, definition, smallDataSet } from './helpers/pipeline.js';

const postgres = postgresForThisFile();

describe('pipeline on PostgreSQL', () => {
  let data: ReturnType<typeof smallDataSet>;
  let engine: PipelineEngine;
  const quiet = { progress: () => undefined };
  before(async () => {
    data = smallDataSet(8_000, 7, 10);
    engine = await openEngine({ engine: 'postgres', url: await postgres.freshDatabase() });
  });
  after(async () => {
    await engine?.close();
    rmSync(data.dir, { recursive: true, force: true });
  });

  test('a run finds exactly the injected faults and disposes of every row, as on DuckDB', async () => {
    const report = await runPipeline(engine, definition(), { dataDir: data.dir, ...quiet });
    assert.equal(report.status, 'published');
    const found = await assertFaultsFound(engine, data.manifest);
    assert.ok(found.filter((entry) => entry.injected > 0).length >= 5);
    await assertEveryRowDisposed(engine, data.manifest);
    for (const gate of report.gates) assert.equal(gate.rowsIn, gate.promoted + gate.quarantined, `${gate.gate} ${gate.table}`);
    const [checks] = await engine.query('SELECT count(DISTINCT check_id) AS n FROM ops.check_results');
    assert.ok(Number(checks!.n) >= 25);
  });

  test('the same files again are skipped; replays from every layer give identical Final tables', async () => {
    const again = await runPipeline(engine, definition(), { dataDir: data.dir, ...quiet });
    assert.ok(again.files.every((file) => file.status === 'skipped'));
    for (const from of ['raw', 'stage', 'std', 'enrich', 'semantic'] as const) {
      const replay = await runPipeline(engine, definition(), { from, ...quiet });
      assert.deepEqual(replay.finalAfter, again.finalAfter, `replay from ${from}`);
    }
  });

  test('DuckDB and PostgreSQL publish the same rows', async () => {
    const duck = await openEngine({ engine: 'duckdb', database: ':memory:' });
    try {
      await runPipeline(duck, definition(), { dataDir: data.dir, ...quiet });
      const digest = (engine: PipelineEngine) =>
        engine.query(
          `SELECT (SELECT count(*) FROM final.enrollment) AS enrollment, (SELECT sum(total_enr) FROM final.enrollment) AS enrolled,
             (SELECT count(*) FROM final.assessment) AS assessment, (SELECT sum(students_tested) FROM final.assessment) AS tested,
             (SELECT count(*) FROM final.schools) AS schools, (SELECT count(*) FROM ops.quarantine) AS quarantined`,
        );
      assert.deepEqual(await digest(engine), await digest(duck));
    } finally {
      await duck.close();
    }
  });

  test('status, quarantine and replay on a database no run has written to are refused, and create nothing in it', async () => {
    const empty = await openEngine({ engine: 'postgres', url: await postgres.freshDatabase() });
    try {
      const refused = (error: Error & { code?: string }) => error.code === 'GH_PIPELINE_NOT_LOADED' && /no pipeline has run in postgres .*\(it has no ops\.runs table\)/.test(error.message);
      await assert.rejects(pipelineStatus(empty), refused);
      await assert.rejects(listQuarantine(empty, { limit: 5 }), refused);
      await assert.rejects(releaseQuarantined(empty, { rule: 'B.types', reason: 'checked', by: 'test' }), refused);
      await assert.rejects(runPipeline(empty, definition(), { from: 'stage', ...quiet }), refused);
      const [schemas] = await empty.query(`SELECT count(*) AS n FROM information_schema.schemata WHERE schema_name IN ('ops', 'ref', 'raw', 'stage', 'std', 'enrich', 'semantic', 'final')`);
      assert.equal(Number(schemas!.n), 0);
    } finally {
      await empty.close();
    }
  });
});

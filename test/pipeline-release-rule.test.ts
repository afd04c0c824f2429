import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { appendFileSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { PipelineEngine } from '../src/pipeline/engines/engine.js';
import { openEngine } from '../src/pipeline/engines/open.js';
import { releaseQuarantined } from '../src/pipeline/run/inspect.js';
import { runPipeline } from '../src/pipeline/run/run.js';
import { definition, smallDataSet } from './helpers/pipeline.js';
import { postgresForThisFile } from './helpers/postgres.js';

/**
 * A release waives the rule it names, not the whole gate: a row that fails several checks of a
 * gate, released from the first, is held back by the next one at the following replay.
 */
const postgres = postgresForThisFile();

describe('a release waives its rule only', () => {
  for (const kind of ['duckdb', 'postgres'] as const) {
    test(`${kind}: a row released from one rule is still quarantined by the next rule of the same gate`, async () => {
      const work = mkdtempSync(path.join(tmpdir(), 'gatehouse-release-rule-'));
      const engine = kind === 'duckdb' ? await openEngine({ engine: 'duckdb', database: path.join(work, 'pipeline.duckdb') }) : await openEngine({ engine: 'postgres', url: await postgres.freshDatabase() });
      try {
        await releaseOneRuleAtATime(engine);
      } finally {
        await engine.close();
        rmSync(work, { recursive: true, force: true });
      }
    });
  }
});

async function releaseOneRuleAtATime(engine: PipelineEngine): Promise<void> {
  const data = smallDataSet(3_000, 11, 0);
  try {
    // A copy of a good enrollment row with a pseudo-null in GR_01 (B.strict_nulls) and a word in
    // GR_02 (B.types), appended to its file: it also repeats its original's key (B.enrollment_key_unique).
    const file = path.join(data.dir, readdirSync(data.dir).find((name) => name.startsWith('cdenroll'))!);
    const lines = readFileSync(file, 'utf8').split('\n').filter(Boolean);
    const header = lines[0]!.split('\t');
    const fields = lines.slice(1).map((line) => line.split('\t')).find((row) => row[header.indexOf('ReportingCategory')] === 'TA' && row[header.indexOf('GR_01')] !== '*')!;
    fields[header.indexOf('GR_01')] = 'NA';
    fields[header.indexOf('GR_02')] = 'x1';
    appendFileSync(file, `${fields.join('\t')}\n`);
    const line = lines.length + 1;
    const quiet = { progress: () => undefined };
    const ruleOf = async () => {
      const rows = await engine.query(`SELECT q.quarantine_id, q.rule FROM ops.quarantine q JOIN ops.raw_files f ON f.file_id = q.file_id WHERE f.path LIKE '%${path.basename(file)}' AND q.line = ${line}`);
      return rows.map((row) => ({ id: Number(row.quarantine_id), rule: String(row.rule) }));
    };

    await runPipeline(engine, definition(), { dataDir: data.dir, ...quiet });
    const first = await ruleOf();
    assert.deepEqual(first.map((row) => row.rule), ['B.strict_nulls']);

    await releaseQuarantined(engine, { ids: [first[0]!.id], reason: 'NA checked by hand', by: 'test' });
    await runPipeline(engine, definition(), { from: 'stage', ...quiet });
    assert.deepEqual((await ruleOf()).map((row) => row.rule), ['B.types'], 'the next failing check of gate B still holds the row');

    const second = await ruleOf();
    await releaseQuarantined(engine, { ids: [second[0]!.id], reason: 'x1 checked by hand', by: 'test' });
    await runPipeline(engine, definition(), { from: 'stage', ...quiet });
    assert.deepEqual((await ruleOf()).map((row) => row.rule), ['B.enrollment_key_unique'], 'and then the key check');
  } finally {
    rmSync(data.dir, { recursive: true, force: true });
  }
}

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { openEngine } from '../src/pipeline/engines/open.js';
import { runPipeline } from '../src/pipeline/run/run.js';
import { definition, smallDataSet } from './helpers/pipeline.js';

/**
 * Gate A's row shape end to end (the generator injects no such fault): a line with more fields than
 * its header and one that ends before a required column are quarantined by A.row_shape, each with
 * its raw text: the reader's reason and the line for the first, the line itself for the second.
 */
test('a line with too many fields and a line cut short are quarantined by A.row_shape with their raw text', async () => {
  const data = smallDataSet(1_000, 5, 0);
  const work = mkdtempSync(path.join(tmpdir(), 'gatehouse-row-shape-'));
  const engine = await openEngine({ engine: 'duckdb', database: path.join(work, 'p.duckdb') });
  try {
    const name = readdirSync(data.dir).find((file) => file.startsWith('cdenroll'))!;
    const file = path.join(data.dir, name);
    const lines = readFileSync(file, 'utf8').split('\n');
    const long = `${lines[1]}\textra`;
    const short = lines[2]!.split('\t').slice(0, 3).join('\t');
    lines.splice(1, 2, long, short);
    writeFileSync(file, lines.join('\n'));

    const report = await runPipeline(engine, definition(), { dataDir: data.dir, progress: () => undefined });
    assert.equal(report.status, 'published');
    const quarantined = await engine.query(`SELECT q.line, q.raw_text FROM ops.quarantine q JOIN ops.raw_files f ON f.file_id = q.file_id WHERE q.rule = 'A.row_shape' AND f.path = '${file}' ORDER BY q.line`);
    assert.deepEqual(quarantined, [
      { line: 2, raw_text: `TOO MANY COLUMNS: ${long}` },
      { line: 3, raw_text: short },
    ]);
  } finally {
    await engine.close();
    rmSync(work, { recursive: true, force: true });
    rmSync(data.dir, { recursive: true, force: true });
  }
});

import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { generate } from '../src/pipeline/generate/generate.js';
import { runCli } from './helpers/gatehouse.js';
import { inTempDir } from '../bench/lib/temp-dir.js';

const inScratch = (body: (work: string) => void): Promise<void> => inTempDir('gatehouse-generate-folder', body);

describe('pipeline generate: the output folder', () => {
  test('a generation over an earlier one replaces it: no file of the earlier one is left for a run to load', async () => {
    await inScratch((work) => {
      const out = path.join(work, 'data');
      const first = generate({ rows: 2_000, seed: 1, outDir: out, years: 4 });
      const second = generate({ rows: 1_000, seed: 2, outDir: out, years: 2 });
      assert.ok(first.files.length > second.files.length, 'the first generation had more files');
      assert.deepEqual(readdirSync(out).sort(), [...second.files.map((file) => file.file), 'manifest.json'].sort());
      assert.equal(JSON.parse(readFileSync(path.join(out, 'manifest.json'), 'utf8')).seed, 2);
    });
  });

  test('a folder holding anything an earlier generation did not write is refused, and nothing in it is touched', async () => {
    await inScratch((work) => {
      const out = path.join(work, 'data');
      generate({ rows: 1_000, seed: 1, outDir: out, years: 2 });
      const before = readdirSync(out).sort();
      writeFileSync(path.join(out, 'notes.txt'), 'mine\n');
      const result = runCli(['pipeline', 'generate', '--rows', '1000', '--seed', '9', '--out', out]);
      assert.equal(result.status, 1, result.stdout);
      assert.match(result.stderr, /^error GH_INVALID_ARGUMENTS: the output folder .*data holds files that the manifest\.json of the earlier generation does not list: notes\.txt \(choose an empty or new folder; nothing was written\)/);
      assert.deepEqual(readdirSync(out).sort(), [...before, 'notes.txt'].sort());
      assert.equal(JSON.parse(readFileSync(path.join(out, 'manifest.json'), 'utf8')).seed, 1, 'the earlier manifest is kept');

      const other = path.join(work, 'other');
      mkdirSync(other);
      writeFileSync(path.join(other, 'pubschls.txt'), 'CDSCode\n');
      assert.throws(() => generate({ rows: 1_000, seed: 1, outDir: other }), (error: Error & { code?: string }) => error.code === 'GH_INVALID_ARGUMENTS' && /holds files and no manifest\.json of an earlier `pipeline generate`: pubschls\.txt/.test(error.message));
      assert.equal(readFileSync(path.join(other, 'pubschls.txt'), 'utf8'), 'CDSCode\n');
    });
  });

  test('a manifest of another generator does not make its folder ours to clear', async () => {
    await inScratch((work) => {
      const out = path.join(work, 'data');
      mkdirSync(out);
      writeFileSync(path.join(out, 'manifest.json'), JSON.stringify({ generator: 'someone-else', files: [{ file: 'report.csv' }] }));
      writeFileSync(path.join(out, 'report.csv'), 'a,b\n');
      assert.throws(() => generate({ rows: 1_000, seed: 1, outDir: out }), /holds files and no manifest\.json of an earlier `pipeline generate`: manifest\.json, report\.csv/);
      assert.deepEqual(readdirSync(out).sort(), ['manifest.json', 'report.csv']);
    });
  });
});

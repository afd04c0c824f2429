import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { openEngine } from '../src/pipeline/engines/open.js';
import { numberLines } from '../src/pipeline/raw/number-lines.js';
import { decodeFile, scanFile } from '../src/pipeline/raw/scan.js';

/**
 * Raw keeps each row's line in its source file. DuckDB's reader has no line numbers, so the
 * engine reads a copy whose lines carry their own number (raw/number-lines.ts); these tests
 * hold that to the source's lines through CRLF and mixed line ends, empty lines, a malformed line and a last line
 * without a newline.
 */
const SOURCE = ['code^name^total', '01^Alameda^10', '', '02^Alpine^20^extra', '03^Amador^30', '04^Butte'].join('\n');

test('numberLines: line N of the copy is line N of the source with its number in front; empty lines stay empty; CRLF becomes LF', async () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'gatehouse-lines-test-'));
  try {
    writeFileSync(path.join(dir, 'source.txt'), SOURCE.replace('30\n', '30\r\n'));
    const { lines } = await numberLines(path.join(dir, 'source.txt'), path.join(dir, 'copy.txt'), '^');
    assert.equal(lines, 6);
    assert.equal(
      readFileSync(path.join(dir, 'copy.txt'), 'utf8'),
      ['_line^code^name^total', '2^01^Alameda^10', '', '4^02^Alpine^20^extra', '5^03^Amador^30', '6^04^Butte'].join('\n'),
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('DuckDB loadRaw: every row on its source line, the malformed one kept with its own text, the copy removed', async () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'gatehouse-lines-test-'));
  const engine = await openEngine({ engine: 'duckdb', database: ':memory:' });
  // The engine writes its numbered copy under os.tmpdir(): a folder of this test's own, to see it go.
  const scratch = path.join(dir, 'scratch');
  mkdirSync(scratch);
  const tmpdirBefore = process.env.TMPDIR;
  process.env.TMPDIR = scratch;
  try {
    const file = path.join(dir, 'source.txt');
    // Line ends mixed within the file (CRLF on two lines, LF on the others), as concatenated files have them.
    writeFileSync(file, SOURCE.replace('10\n', '10\r\n').replace('30\n', '30\r\n'));
    await engine.exec('CREATE SCHEMA raw');
    await engine.prepareRaw('raw.t', ['code', 'name', 'total']);
    const loaded = await engine.loadRaw({
      table: 'raw.t', path: file, delimiter: '^', fileColumns: ['code', 'name', 'total'], canonicalColumns: ['code', 'name', 'total'], fieldsNeeded: 3, fileId: 7,
      coercedLines: [{ line: 5, rule: 'A.encoding_cp1252' }], partition: { district: 'code', year: '2025' },
    });
    assert.deepEqual(loaded, { rows: 4, rejected: 1 });
    const rows = await engine.query('SELECT _line, code, name, total, _text, _district_key, _rules, _reject, _short FROM raw.t ORDER BY _line');
    assert.deepEqual(rows, [
      { _line: 2, code: '01', name: 'Alameda', total: '10', _text: '01^Alameda^10', _district_key: '01', _rules: null, _reject: null, _short: false },
      { _line: 4, code: null, name: null, total: null, _text: null, _district_key: null, _rules: null, _reject: 'TOO MANY COLUMNS: 02^Alpine^20^extra', _short: false },
      { _line: 5, code: '03', name: 'Amador', total: '30', _text: '03^Amador^30', _district_key: '03', _rules: 'A.encoding_cp1252', _reject: null, _short: false },
      { _line: 6, code: '04', name: 'Butte', total: null, _text: '04^Butte', _district_key: '04', _rules: null, _reject: null, _short: true },
    ]);
    assert.deepEqual(readdirSync(scratch), [], 'the numbered copy is deleted');
  } finally {
    if (tmpdirBefore === undefined) delete process.env.TMPDIR;
    else process.env.TMPDIR = tmpdirBefore;
    await engine.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('DuckDB Raw: each file\'s fields reach their canonical columns by its own header; a file can be removed; an old layout is refused', async () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'gatehouse-lines-test-'));
  const engine = await openEngine({ engine: 'duckdb', database: ':memory:' });
  try {
    await engine.exec('CREATE SCHEMA raw');
    const canonicalColumns = ['code', 'name', 'total'];
    await engine.prepareRaw('raw.t', canonicalColumns);
    assert.deepEqual(await engine.query('SELECT * FROM raw.t'), [], 'the view exists before any load');
    const load = async (fileId: number, text: string, fileColumns: Array<string | null>) => {
      writeFileSync(path.join(dir, `${fileId}.txt`), text);
      return engine.loadRaw({ table: 'raw.t', path: path.join(dir, `${fileId}.txt`), delimiter: '^', fileColumns, canonicalColumns, fieldsNeeded: fileColumns.indexOf('code') + 1, fileId, coercedLines: [], partition: { district: 'code', year: '2025' } });
    };
    // File 1 in canonical order; file 2 with the columns swapped, an extra column no canonical one maps to, and no total.
    await load(1, 'code^name^total\n01^Alameda^\n', ['code', 'name', 'total']);
    await load(2, 'name^note^code\nAlpine^x^02\n', ['name', null, 'code']);
    const both = await engine.query('SELECT _file_id, _line, code, name, total, _district_key FROM raw.t ORDER BY _file_id');
    assert.deepEqual(both, [
      { _file_id: 1, _line: 2, code: '01', name: 'Alameda', total: '', _district_key: '01' },
      { _file_id: 2, _line: 2, code: '02', name: 'Alpine', total: null, _district_key: '02' },
    ]);
    await engine.removeRawFile('raw.t', 1, canonicalColumns);
    assert.deepEqual(await engine.query('SELECT _file_id, code, name FROM raw.t'), [{ _file_id: 2, code: '02', name: 'Alpine' }]);
    await engine.exec('CREATE TABLE raw.old (code VARCHAR, _file_id INTEGER, _line BIGINT)');
    await assert.rejects(engine.prepareRaw('raw.old', ['code']), (error: Error & { code?: string }) => error.code === 'GH_PIPELINE_NOT_LOADED' && /older Gatehouse/.test(error.message));
    assert.deepEqual(await engine.query('SELECT count(*) AS n FROM raw.old'), [{ n: 0 }], 'the old table is left as it was');
  } finally {
    await engine.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('decodeFile: CP1252 lines are decoded and recorded on their line, the last one too when it has no newline', async () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'gatehouse-lines-test-'));
  try {
    const source = path.join(dir, 'source.txt');
    const bytes = Buffer.concat([Buffer.from('code^name\n01^caf\u00e9 ok\n02^'), Buffer.from([0x97]), Buffer.from('dash\n03^plain\n04^end'), Buffer.from([0x97])]);
    writeFileSync(source, bytes);
    const scanned = await scanFile(source, '^');
    const decoded = await decodeFile(scanned, path.join(dir, 'decoded.txt'));
    assert.equal(decoded.sha256, scanned.sha256, 'the bytes decoded are the bytes hashed');
    assert.deepEqual(decoded.coercedLines, [{ line: 3, rule: 'A.encoding_cp1252' }, { line: 5, rule: 'A.encoding_cp1252' }]);
    assert.equal(readFileSync(path.join(dir, 'decoded.txt'), 'utf8'), 'code^name\n01^caf\u00e9 ok\n02^\u2014dash\n03^plain\n04^end\u2014');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

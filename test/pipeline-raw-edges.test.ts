import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { sourceSchema } from '../src/pipeline/definition/schema.js';
import { mapHeader } from '../src/pipeline/raw/header.js';
import { numberLines } from '../src/pipeline/raw/number-lines.js';
import { decodeFile, scanFile } from '../src/pipeline/raw/scan.js';
import { inTempDir } from '../bench/lib/temp-dir.js';

/**
 * Raw's edges that the generated data sets never reach: files larger than the 4 MB piece Raw reads
 * at a time, headers with a byte order mark and CRLF ends, a header naming one column twice, and a
 * header that has only some of a layout era's names.
 */
const inTemp = (work: (dir: string) => Promise<void>): Promise<void> => inTempDir('gatehouse-raw-edges', work);

/** Equal texts; else the first line that differs, not a diff of megabytes. */
function sameText(actual: string, expected: string): void {
  if (actual === expected) return;
  const a = actual.split('\n');
  const e = expected.split('\n');
  const line = e.findIndex((text, index) => a[index] !== text);
  assert.equal(a[line === -1 ? e.length : line], e[line === -1 ? e.length : line], `line ${(line === -1 ? e.length : line) + 1} of ${e.length}`);
}

const source = sourceSchema.parse({
  files: 't.txt',
  delimiter: '^',
  columns: { code: ['Code', 'CDS Code'], name: ['Name'], group_id: ['Group ID', 'Subgroup ID'], type_id: { names: ['Type ID'], optional: true } },
  eras: [
    { name: 'new', header_has: ['Group ID', 'Name'] },
    { name: 'legacy', header_has: ['Subgroup ID', 'Type ID'] },
  ],
  partition: { district: 'code', year: '2025' },
  key: ['code'],
});

test('mapHeader: a column named twice is mapped once, by its first header, the second is unknown', () => {
  const mapping = mapHeader(['Code', 'Name', 'CDS Code', 'Group ID'], source);
  assert.deepEqual(mapping.fileColumns, ['code', 'name', null, 'group_id']);
  assert.deepEqual(mapping.unknown, ['CDS Code']);
  assert.deepEqual(mapping.renamed, []);
  assert.equal(mapping.era, 'new');
});

test('mapHeader: case, spaces and punctuation do not make another column; such a header is reported as renamed', () => {
  const mapping = mapHeader(['CODE', 'name', 'Group_ID'], source);
  assert.deepEqual(mapping.fileColumns, ['code', 'name', 'group_id']);
  assert.deepEqual(mapping.missing, []);
  assert.deepEqual(mapping.renamed, [
    { header: 'CODE', column: 'code', published: 'Code' },
    { header: 'name', column: 'name', published: 'Name' },
    { header: 'Group_ID', column: 'group_id', published: 'Group ID' },
  ]);
  assert.equal(mapping.era, 'new', 'nor another layout era: an era is known by the same loose names as the columns');
  assert.equal(mapHeader(['code', 'NAME', 'subgroup-id', 'TYPE ID'], source).era, 'legacy');
});

test('mapHeader: an era is matched only when the header has every one of its names', () => {
  // "Subgroup ID" without "Type ID": the columns all map, but the header is of no known era.
  const partial = mapHeader(['Code', 'Name', 'Subgroup ID'], source);
  assert.deepEqual(partial.missing, []);
  assert.equal(partial.era, null);
  assert.equal(mapHeader(['Code', 'Name', 'Subgroup ID', 'Type ID'], source).era, 'legacy');
});

test('scanFile: the header of a file with a byte order mark and CRLF ends is its names, neither mark nor CR kept', async () => {
  await inTemp(async (dir) => {
    const file = path.join(dir, 't.txt');
    writeFileSync(file, '\ufeffCode^Name^Group ID\r\n01^A^1\r\n');
    const scanned = await scanFile(file, '^');
    assert.deepEqual(scanned.header, ['Code', 'Name', 'Group ID']);
    assert.deepEqual(mapHeader(scanned.header, source).missing, []);
  });
});

test('numberLines: an empty CRLF line stays empty (a number in front of it would make a row of nothing)', async () => {
  await inTemp(async (dir) => {
    writeFileSync(path.join(dir, 'crlf.txt'), 'Code^Name\r\n01^A\r\n\r\n02^B\r\n\r\n');
    assert.deepEqual(await numberLines(path.join(dir, 'crlf.txt'), path.join(dir, 'numbered.txt'), '|'), { lines: 5 });
    assert.equal(readFileSync(path.join(dir, 'numbered.txt'), 'utf8'), '_line|Code^Name\n2|01^A\n\n4|02^B\n\n');
  });
});

test('a file of several 4 MB pieces: lines cut between pieces are whole in the numbered copy, and a CP1252 line past the first piece is recorded on its own line', async () => {
  await inTemp(async (dir) => {
    // ~9.5 MB of UTF-8 lines (é as two bytes) of varying length, so that pieces end mid-line; one CP1252 line far in.
    const lines = ['Code^Name^Group ID'];
    for (let index = 2; index <= 100_000; index++) lines.push(`${String(index).padStart(6, '0')}^caf\u00e9 ${'x'.repeat(index % 150)}^${index}`);
    const cp1252Line = 95_000;
    const text = `${lines.join('\n')}\n`;
    const bytes = Buffer.from(text, 'utf8');
    assert.ok(bytes.length > 2 * (4 << 20), 'at least three pieces');
    const at = bytes.indexOf(Buffer.from(`\n${String(cp1252Line).padStart(6, '0')}^caf`)) + 1;
    // The é of that line in CP1252 (one byte, 0xE9) and an em dash (0x97): not UTF-8.
    const cp1252 = Buffer.concat([bytes.subarray(0, at + 10), Buffer.from([0xe9, 0x97]), bytes.subarray(at + 12)]);
    const file = path.join(dir, 'big.txt');
    writeFileSync(file, cp1252);

    const scanned = await scanFile(file, '^');
    const decoded = await decodeFile(scanned, path.join(dir, 'decoded.txt'));
    assert.equal(decoded.sha256, scanned.sha256);
    assert.deepEqual(decoded.coercedLines, [{ line: cp1252Line, rule: 'A.encoding_cp1252' }]);
    const expected = text.replace(`\n0${cp1252Line}^caf\u00e9`, `\n0${cp1252Line}^caf\u00e9\u2014`);
    sameText(readFileSync(path.join(dir, 'decoded.txt'), 'utf8'), expected);

    const numbered = path.join(dir, 'numbered.txt');
    assert.deepEqual(await numberLines(path.join(dir, 'decoded.txt'), numbered, '|'), { lines: 100_000 });
    const want = expected.split('\n').map((line, index) => (index === 0 ? `_line|${line}` : line === '' ? '' : `${index + 1}|${line}`));
    sameText(readFileSync(numbered, 'utf8'), want.join('\n'));
  });
});

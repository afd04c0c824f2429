import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { copyFileSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { REPO } from './helpers/gatehouse.js';

/**
 * dist/gatehouse.mjs starts the bundle through a V8 code cache. A copy of launcher and bundle in
 * a folder of its own (inside the repository, so that the bundle still finds node_modules) keeps
 * this test away from the cache every other test uses.
 */
test('the launcher writes a code cache on the first run, uses it after, and replaces a corrupt one', () => {
  const dir = mkdtempSync(path.join(REPO, 'dist', 'launcher-test-'));
  try {
    copyFileSync(path.join(REPO, 'dist', 'gatehouse.mjs'), path.join(dir, 'gatehouse.mjs'));
    copyFileSync(path.join(REPO, 'dist', 'gatehouse.cjs'), path.join(dir, 'gatehouse.cjs'));
    const run = () => spawnSync(process.execPath, [path.join(dir, 'gatehouse.mjs'), '--version'], { encoding: 'utf8' });
    const caches = () => readdirSync(dir).filter((file) => file.endsWith('.v8cache'));

    const first = run();
    assert.equal(first.status, 0, first.stderr);
    assert.equal(first.stdout.trim(), '0.1.0');
    assert.deepEqual(caches(), [`gatehouse.cjs.${process.version}-${process.arch}.v8cache`]);
    const cacheFile = path.join(dir, caches()[0]!);
    const written = statSync(cacheFile);
    assert.ok(written.size > 100_000, `${written.size} bytes of compiled code`);

    // A usable cache is read, not rewritten.
    const second = run();
    assert.equal(second.status, 0, second.stderr);
    assert.equal(statSync(cacheFile).mtimeMs, written.mtimeMs);

    // V8 rejects a cache that does not match; the CLI still runs and writes a good one.
    writeFileSync(cacheFile, Buffer.alloc(4096, 7));
    const third = run();
    assert.equal(third.status, 0, third.stderr);
    assert.equal(third.stdout.trim(), '0.1.0');
    assert.ok(statSync(cacheFile).size > 100_000, 'the corrupt cache was replaced');
    assert.ok(existsSync(cacheFile));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a code cache made from another build of the same length is not used (V8 checks only the length)', () => {
  const dir = mkdtempSync(path.join(REPO, 'dist', 'launcher-test-'));
  try {
    const launcher = path.join(dir, 'gatehouse.mjs');
    const bundle = path.join(dir, 'gatehouse.cjs');
    copyFileSync(path.join(REPO, 'dist', 'gatehouse.mjs'), launcher);
    copyFileSync(path.join(REPO, 'dist', 'gatehouse.cjs'), bundle);
    const help = () => spawnSync(process.execPath, [launcher, 'audit', '--help'], { encoding: 'utf8' });
    const before = 'Verify, export and prune the tamper-evident audit trail';
    assert.match(help().stdout, new RegExp(before));
    assert.equal(readdirSync(dir).filter((file) => file.endsWith('.v8cache')).length, 1, 'the first run wrote its cache');

    // The next build: one string changed, the bundle's length the same; launcher and bundle replaced together, as an upgrade does.
    const after = 'VERIFY, EXPORT and prune the tamper-evident audit trail';
    const oldBundle = readFileSync(bundle);
    const newBundle = Buffer.from(oldBundle.toString('latin1').replace(before, after), 'latin1');
    assert.equal(newBundle.length, oldBundle.length);
    writeFileSync(bundle, newBundle);
    const sha256 = (bytes: Buffer) => createHash('sha256').update(bytes).digest('hex');
    writeFileSync(launcher, readFileSync(launcher, 'utf8').replace(sha256(oldBundle), sha256(newBundle)));

    const upgraded = help();
    assert.equal(upgraded.status, 0, upgraded.stderr);
    assert.match(upgraded.stdout, new RegExp(after), 'the new build runs, not the code compiled from the old one');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('the bundle has no import() left: code from a V8 code cache cannot run one on Node 20', () => {
  const bundle = readFileSync(path.join(REPO, 'dist', 'gatehouse.cjs'), 'utf8');
  const dynamicImports = bundle.match(/\bimport\(\s*["'`][^"'`]+["'`]\s*\)/g) ?? [];
  assert.deepEqual(dynamicImports, [], 'esbuild must turn these into require() (supported: dynamic-import false)');
});

test('the bundle is ASCII, so the launcher can decode it as Latin-1 (UTF-8 decoding cost ~40 ms per start)', () => {
  const bundle = readFileSync(path.join(REPO, 'dist', 'gatehouse.cjs'));
  const offending = bundle.findIndex((byte) => byte > 0x7e || (byte < 0x20 && byte !== 0x09 && byte !== 0x0a && byte !== 0x0d));
  assert.equal(offending, -1, `byte at ${offending}: ${bundle.subarray(Math.max(0, offending - 40), offending + 40).toString('latin1')}`);
  // The escapes the build wrote still mean the characters: the CAASPP suppression token is an em dash.
  assert.match(bundle.toString('latin1'), /'\\u2014'/);
});

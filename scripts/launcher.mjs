#!/usr/bin/env node
// The `gatehouse` command: runs the CLI bundle (gatehouse.cjs, next to this file) through a V8
// code cache. Compiling the 2 MB bundle is a fixed cost of every start (a `gatehouse connect` is
// spawned by the client for each session); with the cache V8 reads the compiled code instead.
// The cache is written when a process without a usable one exits, so it also holds the functions
// that run compiled. V8 checks it against the source and its own version and flags, and rejects
// a stale one, which is then rewritten. Where the folder is not writable nothing is cached.
// (Node 22 has module.enableCompileCache for this; Gatehouse supports Node 20.)
import { Buffer, isAscii } from 'node:buffer';
import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import Module, { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import vm from 'node:vm';

const bundle = fileURLToPath(new URL('./gatehouse.cjs', import.meta.url));
const cacheFile = `${bundle}.${process.version}-${process.arch}.v8cache`;
// The bundle is ASCII (scripts/bundle.mjs sees to it), and Latin-1 decodes ASCII ~50× faster than UTF-8.
const bytes = readFileSync(bundle);
const source = (isAscii(bytes) ? bytes.toString('latin1') : bytes.toString('utf8')).replace(/^#!.*/, '');
// V8 checks a code cache against the length of the source only: a cache made from another build
// of the same length (a version bump, a one-character fix) would be accepted and run that build's
// compiled code. So the cache file starts with the build it was made from, which scripts/bundle.mjs
// writes in here (the bundle's SHA-256), and a cache of any other build counts as none.
const build = Buffer.from('gatehouse-build:__GATEHOUSE_BUNDLE_SHA256__\n', 'latin1');
let cachedData;
try {
  const cached = readFileSync(cacheFile);
  cachedData = cached.subarray(0, build.length).equals(build) ? cached.subarray(build.length) : undefined;
} catch {
  cachedData = undefined;
}
const script = new vm.Script(Module.wrap(source), {
  filename: bundle,
  cachedData,
  importModuleDynamically: vm.constants.USE_MAIN_CONTEXT_DEFAULT_LOADER,
});
if (cachedData === undefined || script.cachedDataRejected) {
  process.once('exit', () => {
    try {
      const temporary = `${cacheFile}.${process.pid}`;
      writeFileSync(temporary, Buffer.concat([build, script.createCachedData()]));
      renameSync(temporary, cacheFile);
    } catch {
      // Not writable (an installed package, a read-only image): run without a cache.
    }
  });
}
const module = { exports: {} };
script.runInThisContext()(module.exports, createRequire(bundle), module, bundle, path.dirname(bundle));

// Bundles the CLI into one file, dist/gatehouse.cjs, started by dist/gatehouse.mjs (a copy of
// scripts/launcher.mjs with this build's hash written in) through a V8 code cache. Loading one file instead of several hundred (the
// MCP SDK, zod, yaml, commander, …) roughly halves the gateway's start-up time, and the code cache
// saves most of what is left of compiling it; every `gatehouse connect` spawned by a client pays
// both. CommonJS because node:vm's code cache works on scripts, not ES modules. tsc still
// type-checks and compiles the tests; this only produces the shipped entry point.
import { createHash } from 'node:crypto';
import { chmodSync, readFileSync, writeFileSync } from 'node:fs';
import { build } from 'esbuild';

await build({
  entryPoints: ['src/cli/main.ts'],
  outfile: 'dist/gatehouse.cjs',
  bundle: true,
  platform: 'node',
  format: 'cjs',
  target: 'node20',
  sourcemap: true,
  // Loaded from node_modules at run time: the native addons, which must be, and what only some
  // commands use, kept out of the bundle that every start reads: the tracing exporter and SDK
  // (tracing.enabled), the PostgreSQL driver (a postgres store) and iconv-lite's code pages (the
  // pipeline). Every start uses pino and @opentelemetry/api (prom-client's default metrics
  // require it): from node_modules they compiled without the code cache, ~25 ms each per start.
  // In the bundle pino.transport() would not find its worker file; Gatehouse does not use it.
  external: [
    'better-sqlite3',
    '@duckdb/node-api',
    '@opentelemetry/core',
    '@opentelemetry/exporter-trace-otlp-proto',
    '@opentelemetry/resources',
    '@opentelemetry/sdk-trace-base',
    'pg',
    'iconv-lite',
  ],
  // The sources are ES modules; the one use of import.meta.url (finding the package root) gets the bundle's URL.
  define: { 'import.meta.url': '__gatehouseBundleUrl' },
  banner: { js: "const __gatehouseBundleUrl = require('node:url').pathToFileURL(__filename).href;" },
  // No import() may remain: a function compiled from a V8 code cache loses node:vm's dynamic-import
  // callback (Node 20: "A dynamic import callback was not specified"), which broke the OTLP
  // exporter's lazy import('http') on every start after the first. esbuild turns them into require().
  supported: { 'dynamic-import': false },
  logLevel: 'warning',
});
// esbuild escapes non-ASCII characters in code but keeps them in comments; one em dash makes
// the launcher decode the whole 2.7 MB as UTF-8 (~40 ms here) instead of as Latin-1 (<1 ms).
// A \uXXXX escape means the same as the character in strings, regexps and identifiers too.
const bundled = readFileSync('dist/gatehouse.cjs', 'utf8');
writeFileSync('dist/gatehouse.cjs', bundled.replace(/[^\t\n\r\x20-\x7e]/g, (char) => `\\u${char.charCodeAt(0).toString(16).padStart(4, '0')}`));
// The launcher keys its code cache on this build: V8 itself would take a cache of any bundle of the same length.
const bundleSha256 = createHash('sha256').update(readFileSync('dist/gatehouse.cjs')).digest('hex');
writeFileSync('dist/gatehouse.mjs', readFileSync('scripts/launcher.mjs', 'utf8').replace('__GATEHOUSE_BUNDLE_SHA256__', bundleSha256));
chmodSync('dist/gatehouse.mjs', 0o755);

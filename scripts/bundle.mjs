// Bundles the CLI into one ES module, dist/gatehouse.mjs. Loading one file instead of several
// hundred (the MCP SDK, zod, yaml, commander, …) roughly halves the gateway's start-up time,
// which every `gatehouse connect` spawned by a client pays. tsc still type-checks and compiles
// the tests; this only produces the shipped entry point.
//
// Code that only some runs need (the OpenTelemetry SDK and exporter when tracing is on,
// prom-client under `gatehouse serve`) is imported dynamically and split into dist/chunks/, so
// that a start that does not use it does not even parse it (about 1 MB).
import { rmSync } from 'node:fs';
import { build } from 'esbuild';

rmSync('dist/chunks', { recursive: true, force: true });
await build({
  entryPoints: { gatehouse: 'src/cli/main.ts' },
  outdir: 'dist',
  outExtension: { '.js': '.mjs' },
  chunkNames: 'chunks/[name]-[hash]',
  splitting: true,
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  sourcemap: true,
  // Native addon and worker-thread loader: they must be loaded from node_modules at run time.
  external: ['better-sqlite3', 'pino'],
  // Bundled CommonJS dependencies (ajv, commander) call require().
  banner: { js: "import { createRequire as __gatehouseRequire } from 'node:module'; const require = __gatehouseRequire(import.meta.url);" },
  logLevel: 'warning',
});

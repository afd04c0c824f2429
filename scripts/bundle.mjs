// Bundles the CLI into one ES module, dist/gatehouse.mjs. Loading one file instead of several
// hundred (the MCP SDK, zod, yaml, commander, …) roughly halves the gateway's start-up time,
// which every `gatehouse connect` spawned by a client pays. tsc still type-checks and compiles
// the tests; this only produces the shipped entry point.
import { build } from 'esbuild';

await build({
  entryPoints: ['src/cli/main.ts'],
  outfile: 'dist/gatehouse.mjs',
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

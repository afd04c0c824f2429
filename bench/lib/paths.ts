import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository root; benchmarks run compiled from dist/bench/lib, three levels down. */
export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');

/** The compiled `gatehouse` CLI. Benchmarks run the real binary, not an in-process gateway. */
export const CLI = path.join(REPO_ROOT, 'dist/gatehouse.mjs');

/** The twenty-server fixture and the tool snapshots that seed its non-runnable servers. */
export const TWENTY_SERVERS = {
  config: path.join(REPO_ROOT, 'bench/fixtures/twenty-servers.yaml'),
  snapshotDir: path.join(REPO_ROOT, 'bench/fixtures/tool-corpus'),
} as const;

/** Where benchmarks write their figures (git-ignored). */
export const RESULTS_DIR = path.join(REPO_ROOT, 'bench/results');

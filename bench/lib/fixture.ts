import { randomBytes } from 'node:crypto';
import type { Cleanup } from './cleanup.js';
import { runGatehouse } from './gatehouse.js';
import { TWENTY_SERVERS } from './paths.js';
import { makeTempDir } from './temp-dir.js';

/** An indexed, throwaway state folder for the twenty-server fixture, and how to reach it. */
export interface IndexedFixture {
  config: string;
  stateDir: string;
  /** The bench agent's bearer token (random per run, never written to disk). */
  token: string;
  /** Environment for `gatehouse` commands on this fixture. */
  env: Record<string, string>;
  /** The table `gatehouse index` printed. */
  indexReport: string;
}

/**
 * Creates a temp state folder and runs `gatehouse index` on the twenty-server fixture: the three
 * runnable servers are started once, the others seeded from their snapshots. Removal of the
 * folder is registered with `cleanup`, so callers need not remember it.
 */
export async function indexTwentyServers(cleanup: Cleanup): Promise<IndexedFixture> {
  const state = makeTempDir('gatehouse-bench');
  cleanup.add(state.remove);
  const token = randomBytes(24).toString('hex');
  const env = { GATEHOUSE_STATE_DIR: state.path, GATEHOUSE_BENCH_TOKEN: token, GATEHOUSE_LOG_LEVEL: 'warn' };
  const indexReport = await runGatehouse(
    ['index', '--config', TWENTY_SERVERS.config, '--snapshot-dir', TWENTY_SERVERS.snapshotDir],
    env,
    cleanup.signal,
  );
  return { config: TWENTY_SERVERS.config, stateDir: state.path, token, env, indexReport };
}

import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { toYaml } from '../../src/config/yaml.js';
import type { Cleanup } from './cleanup.js';
import { EVERYTHING_STDIO } from './everything.js';
import { makeTempDir } from './temp-dir.js';

/** A throwaway Gatehouse config fronting server-everything, and how to reach it. */
export interface EverythingGateway {
  configPath: string;
  /** The SQLite store (events table) of this config. */
  dbPath: string;
  /** The eager profile allowing `everything/*`. */
  profile: string;
  /** The bench agent's bearer token (random per run, only in the environment). */
  token: string;
  /** Environment for `gatehouse serve` and `gatehouse connect` on this config. */
  env: Record<string, string>;
}

const TOKEN_VAR = 'GATEHOUSE_BENCH_TOKEN';

/**
 * Writes a temp config: server-everything as a stdio downstream, one eager profile, one agent
 * with `tokenEnv`, the SQLite store in `<tmp>/state/`. Nothing is switched off, so a call runs the
 * whole pipeline and writes its audit event. The folder's removal is registered with `cleanup`.
 */
export function writeEverythingGateway(cleanup: Cleanup, profile = 'bench'): EverythingGateway {
  const dir = makeTempDir('gatehouse-bench');
  cleanup.add(dir.remove);
  const configPath = path.join(dir.path, 'gatehouse.yaml');
  const config = {
    store: { kind: 'sqlite', path: 'state/gatehouse.db' },
    // echo is G0 (read-only): the call runs the whole pipeline, governance stage included, and no human is asked.
    servers: { everything: { domain: 'builder', command: EVERYTHING_STDIO.command, args: [...EVERYTHING_STDIO.args], tools: { echo: { gate: 'G0' } } } },
    profiles: { [profile]: { mode: 'eager', allow: ['everything/*'] } },
    agents: { bench: { profiles: [profile], tokenEnv: TOKEN_VAR } },
  };
  writeFileSync(configPath, toYaml(config));
  const token = randomBytes(24).toString('hex');
  return {
    configPath,
    dbPath: path.join(dir.path, 'state/gatehouse.db'),
    profile,
    token,
    env: { [TOKEN_VAR]: token, GATEHOUSE_LOG_LEVEL: 'warn' },
  };
}

import type { Logger } from 'pino';
import { findConfigPath, loadConfig, type GatehouseConfig } from '../config/load.js';
import { createLogger } from '../log.js';

/** The CLI's view of the environment: read here, once, and handed inward. */
export interface CliContext {
  env: NodeJS.ProcessEnv;
  log: Logger;
  loadConfig(explicit: string | undefined): GatehouseConfig;
}

export function cliContext(): CliContext {
  const env = process.env;
  return {
    env,
    log: createLogger(env.GATEHOUSE_LOG_LEVEL ?? 'info'),
    loadConfig: (explicit) => loadConfig(findConfigPath(explicit), env),
  };
}

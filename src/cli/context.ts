import type { Logger } from 'pino';
import { findConfigPath, loadConfig, type GatehouseConfig } from '../config/load.js';
import { configSecretValues } from '../config/secret-values.js';
import { createLogger, SecretValues } from '../log.js';

/** The CLI's view of the environment: read here, once, and handed inward. */
export interface CliContext {
  env: NodeJS.ProcessEnv;
  log: Logger;
  loadConfig(explicit: string | undefined): GatehouseConfig;
}

export function cliContext(): CliContext {
  const env = process.env;
  const secrets = new SecretValues();
  return {
    env,
    log: createLogger(env.GATEHOUSE_LOG_LEVEL ?? 'info', { secrets }),
    loadConfig: (explicit) => {
      const config = loadConfig(findConfigPath(explicit), env);
      // From here on, the config's credentials are scrubbed from every log line by value.
      secrets.add(configSecretValues(config));
      return config;
    },
  };
}

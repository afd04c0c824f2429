import { looksLikeCredential } from './import-secrets.js';
import { isStdioServer, type ParsedConfig } from './schema.js';

/**
 * The credentials a config hands out, so that the logger can scrub them by value: a server's
 * env and header values under credential-looking keys (`GITHUB_TOKEN`, `Authorization`), with
 * and without their scheme (`Bearer …`), and every OTLP exporter header.
 */
export function configSecretValues(config: Pick<ParsedConfig, 'servers' | 'tracing'>): string[] {
  const values: string[] = [];
  const addAll = (entries: Record<string, string>, all: boolean) => {
    for (const [key, value] of Object.entries(entries)) {
      if (!all && !looksLikeCredential(key)) continue;
      values.push(value);
      const scheme = /^\s*[A-Za-z]+\s+(\S+)\s*$/.exec(value);
      if (scheme) values.push(scheme[1]!);
    }
  };
  for (const server of Object.values(config.servers)) {
    if (isStdioServer(server)) addAll(server.env, false);
    else addAll(server.headers, false);
  }
  addAll(config.tracing.headers, true);
  return values;
}

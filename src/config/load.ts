import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseYaml } from './yaml.js';
import type { z } from 'zod';
import { GatehouseError } from '../core/errors.js';
import { configSchema, crossReferenceProblems, isStdioServer, type ParsedConfig } from './schema.js';

/** A validated, frozen configuration with every relative path resolved. */
export type GatehouseConfig = ParsedConfig & {
  readonly configPath: string;
  /** Absolute folder that relative paths (store, cwd, tokenFile) are resolved against. */
  readonly rootDir: string;
};

/**
 * The package's own folder (the nearest one up with our package.json), so that
 * `examples/gatehouse.yaml` and the migrations are found from any working directory, whether
 * this runs from dist/src/… (tests) or from the bundled dist/gatehouse.mjs.
 */
export const PACKAGE_ROOT = findPackageRoot(path.dirname(fileURLToPath(import.meta.url)));

function findPackageRoot(from: string): string {
  for (let dir = from; ; dir = path.dirname(dir)) {
    const manifest = path.join(dir, 'package.json');
    if (existsSync(manifest) && (JSON.parse(readFileSync(manifest, 'utf8')) as { name?: string }).name === 'gatehouse') return dir;
    if (path.dirname(dir) === dir) throw new Error(`gatehouse: no package.json of gatehouse above ${from}`);
  }
}

/** `--config FILE`, else ./gatehouse.yaml, else the bundled examples/gatehouse.yaml. */
export function findConfigPath(explicit: string | undefined, cwd = process.cwd()): string {
  if (explicit) {
    const resolved = path.resolve(cwd, explicit);
    if (!existsSync(resolved)) throw new GatehouseError('GH_CONFIG_NOT_FOUND', `config file not found: ${resolved}`, { path: resolved });
    return resolved;
  }
  for (const candidate of [path.resolve(cwd, 'gatehouse.yaml'), path.join(PACKAGE_ROOT, 'examples', 'gatehouse.yaml')]) {
    if (existsSync(candidate)) return candidate;
  }
  throw new GatehouseError('GH_CONFIG_NOT_FOUND', 'no ./gatehouse.yaml and no bundled examples/gatehouse.yaml; pass --config FILE');
}

/**
 * Reads, interpolates `${VAR}`, `${VAR:-default}`, `${configDir}` and `${rootDir}`, validates
 * and freezes a config file.
 */
export function loadConfig(configPath: string, env: NodeJS.ProcessEnv): GatehouseConfig {
  let raw: unknown;
  try {
    raw = parseYaml(readFileSync(configPath, 'utf8')); // YAML is a superset of JSON
  } catch (error) {
    throw new GatehouseError('GH_CONFIG_INVALID', `${configPath}: cannot parse: ${(error as Error).message}`, {
      problems: [`(file): ${(error as Error).message}`],
    });
  }
  return validateConfig(raw, configPath, env);
}

/** Validates an already parsed document; `configPath` anchors relative paths. */
export function validateConfig(raw: unknown, configPath: string, env: NodeJS.ProcessEnv): GatehouseConfig {
  const configDir = path.dirname(configPath);
  const problems: string[] = [];
  // root first (it may use the environment and ${configDir}), since every other string may use ${rootDir}.
  // A document that is not a mapping goes to the schema as it is, which says so.
  const document = raw !== null && typeof raw === 'object' && !Array.isArray(raw) ? (raw as Record<string, unknown>) : undefined;
  const { root: rawRoot, ...rest } = document ?? {};
  const root = interpolate(rawRoot, ['root'], { ...env, configDir }, problems);
  const rootDir = path.resolve(configDir, typeof root === 'string' ? root : '.');
  const interpolated = document ? { ...(interpolate(rest, [], { ...env, configDir, rootDir }, problems) as Record<string, unknown>), ...(rawRoot === undefined ? {} : { root }) } : raw;
  const result = configSchema.safeParse(interpolated);
  for (const problem of crossReferenceProblems(interpolated)) problems.push(`${formatPath(problem.path)}: ${problem.message}`);
  if (!result.success) {
    for (const issue of result.error.issues) problems.push(...describeIssue(issue, interpolated));
  }
  if (problems.length > 0 || !result.success) {
    throw new GatehouseError('GH_CONFIG_INVALID', `${configPath} is not valid:\n  ${problems.join('\n  ')}`, { problems });
  }
  const parsed = result.data;
  const resolved = {
    ...parsed,
    configPath,
    rootDir,
    store: parsed.store.kind === 'sqlite' ? { ...parsed.store, path: path.resolve(rootDir, parsed.store.path) } : parsed.store,
    audit: { ...parsed.audit, signingKeyFile: path.resolve(rootDir, parsed.audit.signingKeyFile), deadLetterFile: path.resolve(rootDir, parsed.audit.deadLetterFile) },
    servers: Object.fromEntries(
      Object.entries(parsed.servers).map(([name, server]) => [
        name,
        isStdioServer(server) ? { ...server, cwd: path.resolve(rootDir, server.cwd ?? '.') } : server,
      ]),
    ),
    agents: resolveTokenFiles(parsed.agents, rootDir),
    operators: resolveTokenFiles(parsed.operators, rootDir),
  };
  return deepFreeze(resolved);
}

function resolveTokenFiles<T extends { tokenFile?: string | undefined }>(entries: Record<string, T>, rootDir: string): Record<string, T> {
  return Object.fromEntries(
    Object.entries(entries).map(([name, entry]) => [name, entry.tokenFile ? { ...entry, tokenFile: path.resolve(rootDir, entry.tokenFile) } : entry]),
  );
}

/**
 * A server is stdio or HTTP; when neither shape fits, report the problems of the shape the
 * entry meant (it has `url` → HTTP, else stdio) instead of zod's bare "Invalid input".
 */
function describeIssue(issue: z.core.$ZodIssue, raw: unknown): string[] {
  if (issue.code === 'invalid_union' && issue.path[0] === 'servers' && issue.path.length === 2) {
    const entry = valueAt(raw, issue.path);
    if (entry === null || typeof entry !== 'object' || (!('command' in entry) && !('url' in entry))) {
      return [`${formatPath(issue.path)}: needs "command" (a stdio server) or "url" (a streamable HTTP server)`];
    }
    const branch = 'url' in entry ? issue.errors[1] : issue.errors[0];
    return (branch ?? []).map((inner) => `${formatPath([...issue.path, ...inner.path])}: ${inner.message}`);
  }
  // A name (record key) that breaks its rule: say the rule, not zod's "Invalid key in record".
  if (issue.code === 'invalid_key') {
    return [`${formatPath(issue.path)}: the name ${JSON.stringify(String(issue.path.at(-1)))} is not allowed: ${issue.issues.map((inner) => inner.message).join('; ')}`];
  }
  return [`${formatPath(issue.path)}: ${issue.message}`];
}

function valueAt(raw: unknown, at: readonly PropertyKey[]): unknown {
  let value = raw;
  for (const key of at) value = value !== null && typeof value === 'object' ? (value as Record<PropertyKey, unknown>)[key] : undefined;
  return value;
}

/** `a.b[2].c`: the path format every config error uses. */
export function formatPath(segments: readonly PropertyKey[]): string {
  let out = '';
  for (const segment of segments) {
    if (typeof segment === 'number') out += `[${segment}]`;
    else out += out === '' ? String(segment) : `.${String(segment)}`;
  }
  return out || '(root)';
}

/** `${NAME}` or `${NAME:-fallback}`; the fallback may itself hold one level of `${…}`. */
const REFERENCE = /\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-((?:[^{}]|\{[^{}]*\})*))?\}/g;

function interpolate(value: unknown, at: PropertyKey[], vars: Record<string, string | undefined>, problems: string[]): unknown {
  if (typeof value === 'string') {
    return value.replace(REFERENCE, (match, name: string, fallback: string | undefined) => {
      const found = vars[name] || (fallback === undefined ? undefined : (interpolate(fallback, at, vars, problems) as string));
      if (found === undefined) {
        problems.push(`${formatPath(at)}: environment variable ${name} is not set`);
        return match;
      }
      return found;
    });
  }
  if (Array.isArray(value)) return value.map((item, index) => interpolate(item, [...at, index], vars, problems));
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, interpolate(item, [...at, key], vars, problems)]));
  }
  return value;
}

function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const item of Object.values(value)) deepFreeze(item);
  }
  return value;
}

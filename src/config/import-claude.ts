import path from 'node:path';
import { GatehouseError, isGatehouseError } from '../core/errors.js';
import { handleSecrets, looksLikeCredential, stripAccents } from './import-secrets.js';
import { validateConfig } from './load.js';
import { SERVER_NAME_PATTERN, SERVER_NAME_RULE } from '../core/naming.js';
import { toYaml } from './yaml.js';

/**
 * Conversion of a Claude Desktop / Claude Code MCP configuration into a Gatehouse config.
 * Pure: the caller reads the file and writes the result; this module only turns one object
 * into another (and checks it against the config schema).
 */

export interface ClaudeImportOptions {
  /** Where the input came from (a file path); named in every message. */
  source: string;
  /** Keep credential-looking env and header values as they are instead of `${VAR}` references. */
  inlineSecrets?: boolean;
  /** Where the result will live; anchors relative paths during the schema check. Default ./gatehouse.yaml. */
  configPath?: string;
}

export interface ImportWarning {
  kind: 'skipped' | 'renamed' | 'assumed' | 'ignored-keys' | 'secret-kept' | 'no-auth';
  /** JSON path in the input, e.g. `mcpServers.events`. */
  path: string;
  message: string;
}

/** An environment variable the imported config reads and that has no default. */
export interface EnvToSet {
  name: string;
  /** `extracted`: the import moved a literal credential there; `referenced`: the input already used `${name}`. */
  reason: 'extracted' | 'referenced';
  /** Input JSON paths of the values that now read it. */
  paths: string[];
}

export type ImportedServer =
  | { domain: string; command: string; args?: string[]; env?: Record<string, string>; cwd?: string }
  | { domain: string; url: string; headers?: Record<string, string> };

export interface ImportedConfig {
  servers: Record<string, ImportedServer>;
  profiles: { default: { mode: 'eager'; allow: string[] } };
  agents: { claude: { profiles: string[]; tokenFile: string } };
}

export interface ClaudeImport {
  config: ImportedConfig;
  warnings: ImportWarning[];
  envToSet: EnvToSet[];
}

export const IMPORT_DOMAIN = 'imported';
export const IMPORT_PROFILE = 'default';
export const IMPORT_AGENT = 'claude';
export const IMPORT_TOKEN_FILE = '.gatehouse/tokens/claude.token';

type Segment = string | number;

interface Entry {
  name: string;
  at: Segment[];
  value: unknown;
  /** Set for `projects.<dir>.mcpServers` entries of ~/.claude.json: Claude Code runs them in that folder. */
  projectDir?: string;
}

interface Draft {
  entry: Entry;
  server: ImportedServer;
}

/**
 * Converts a parsed Claude MCP configuration. Throws GH_IMPORT_INVALID naming `options.source`
 * and the JSON path of every problem; returns only configs that pass the Gatehouse schema.
 */
export function importClaudeConfig(input: unknown, options: ClaudeImportOptions): ClaudeImport {
  const { source } = options;
  const warnings: ImportWarning[] = [];
  const problems: string[] = [];
  const entries = collectEntries(input, source);
  const drafts: Draft[] = [];
  for (const entry of entries) {
    const server = readEntry(entry, problems, warnings);
    if (server) drafts.push({ entry, server });
  }
  if (problems.length > 0) throw invalid(source, problems);
  if (drafts.length === 0) {
    throw invalid(source, [`${formatJsonPath(entries[0]?.at.slice(0, -1) ?? ['mcpServers'])}: no server can be imported (every one was skipped, see the warnings)`], { warnings });
  }

  const names = assignNames(drafts, warnings);
  const servers: Record<string, ImportedServer> = {};
  drafts.forEach((draft, index) => (servers[names[index]!] = draft.server));
  const origins = new Map(drafts.map((draft, index) => [names[index]!, formatJsonPath(draft.entry.at)]));

  const secrets = handleSecrets(drafts.map(({ entry, server }, index) => ({ name: names[index]!, at: entry.at, server })), options.inlineSecrets === true);
  for (const { at, message } of secrets.kept) warnings.push({ kind: 'secret-kept', path: formatJsonPath(at), message });
  const envToSet: EnvToSet[] = secrets.variables.map(({ name, reason, at }) => ({ name, reason, paths: at.map(formatJsonPath) }));
  const serverNames = Object.keys(servers);
  const config: ImportedConfig = {
    servers,
    profiles: { [IMPORT_PROFILE]: { mode: 'eager', allow: serverNames.map((name) => `${name}/*`) } } as ImportedConfig['profiles'],
    agents: { [IMPORT_AGENT]: { profiles: [IMPORT_PROFILE], tokenFile: IMPORT_TOKEN_FILE } } as ImportedConfig['agents'],
  };
  checkAgainstSchema(config, envToSet, options, origins);
  return { config, warnings, envToSet };
}

/** The YAML text of an import, with a comment header that says where it came from. */
export function renderImportYaml(result: ClaudeImport, source: string): string {
  const header = [
    ` Imported by \`gatehouse import claude\` from ${source}`,
    ` Every server is in domain "${IMPORT_DOMAIN}" and fully open to agent "${IMPORT_AGENT}" through`,
    ` profile "${IMPORT_PROFILE}": narrow the allowlist and add gates before relying on it.`,
  ];
  if (result.envToSet.length > 0) header.push(` Set before starting Gatehouse: ${result.envToSet.map((env) => env.name).join(', ')}`);
  return `${header.map((line) => `#${line}\n`).join('')}${toYaml(result.config)}`;
}

/** `mcpServers["my.server"].args[2]`: dots for plain keys, quoted brackets for the rest. */
export function formatJsonPath(segments: readonly Segment[]): string {
  let out = '';
  for (const segment of segments) {
    if (typeof segment === 'number') out += `[${segment}]`;
    else if (/^[A-Za-z_$][A-Za-z0-9_$-]*$/.test(segment)) out += out === '' ? segment : `.${segment}`;
    else out += `[${JSON.stringify(segment)}]`;
  }
  return out || '(root)';
}

function invalid(source: string, problems: string[], data: Record<string, unknown> = {}): GatehouseError {
  const message = problems.length === 1 ? `${source}: ${problems[0]}` : `${source} cannot be imported:\n  ${problems.join('\n  ')}`;
  return new GatehouseError('GH_IMPORT_INVALID', message, { file: source, problems, ...data });
}

function isObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

/** Top-level `mcpServers` first, then `projects.<dir>.mcpServers` (~/.claude.json) in file order. */
function collectEntries(input: unknown, source: string): Entry[] {
  if (!isObject(input)) throw invalid(source, ['(root): expected a JSON object with an "mcpServers" object']);
  const entries: Entry[] = [];
  const problems: string[] = [];
  let found = false;
  const take = (servers: unknown, at: Segment[], projectDir?: string) => {
    if (servers === undefined) return;
    found = true;
    if (!isObject(servers)) {
      problems.push(`${formatJsonPath(at)}: must be an object mapping server names to servers`);
      return;
    }
    for (const [name, value] of Object.entries(servers)) entries.push({ name, at: [...at, name], value, projectDir });
  };
  take(input.mcpServers, ['mcpServers']);
  if (isObject(input.projects)) {
    for (const [dir, project] of Object.entries(input.projects)) {
      if (isObject(project)) take(project.mcpServers, ['projects', dir, 'mcpServers'], dir);
    }
  }
  if (!found) {
    throw invalid(source, ['(root): no "mcpServers" object, neither at the top level nor under projects.<path> (expected claude_desktop_config.json, .mcp.json or ~/.claude.json)']);
  }
  if (problems.length > 0) throw invalid(source, problems);
  if (entries.length === 0) throw invalid(source, ['mcpServers: is empty, there is nothing to import']);
  return entries;
}

const STDIO_KEYS = new Set(['type', 'command', 'args', 'env', 'cwd']);
const HTTP_KEYS = new Set(['type', 'url', 'headers']);

function readEntry(entry: Entry, problems: string[], warnings: ImportWarning[]): ImportedServer | undefined {
  const where = formatJsonPath(entry.at);
  const at = (...more: Segment[]) => formatJsonPath([...entry.at, ...more]);
  const value = entry.value;
  if (!isObject(value)) {
    problems.push(`${where}: must be an object with "command" or "url"`);
    return undefined;
  }
  const skip = (message: string) => {
    warnings.push({ kind: 'skipped', path: where, message: `skipped server "${entry.name}": ${message}` });
    return undefined;
  };
  const rawType = value.type;
  if (rawType !== undefined && typeof rawType !== 'string') {
    problems.push(`${at('type')}: must be a string ("stdio", "http" or "streamable-http")`);
    return undefined;
  }
  // A "true" or 1 would be read as enabled and fronted: a server its owner meant to switch off.
  if (value.disabled !== undefined && typeof value.disabled !== 'boolean') {
    problems.push(`${at('disabled')}: must be true or false, not ${JSON.stringify(value.disabled)}`);
    return undefined;
  }
  if (value.disabled === true) return skip('it is disabled');
  const type = rawType?.toLowerCase();
  let transport: 'stdio' | 'http';
  if (type === 'stdio') transport = 'stdio';
  else if (type === 'http' || type === 'streamable-http' || type === 'streamablehttp') transport = 'http';
  else if (type === 'sse') return skip('type "sse" cannot be fronted yet (Gatehouse speaks stdio and streamable HTTP downstream)');
  else if (type !== undefined) return skip(`type "${rawType}" is not supported (Gatehouse speaks stdio and streamable HTTP downstream)`);
  else if (value.command !== undefined) transport = 'stdio';
  else if (value.url !== undefined) {
    if (typeof value.url === 'string' && /\/sse\/?(?:[?#].*)?$/.test(value.url)) {
      return skip('it has a url ending in /sse and no "type", so it is taken to be an SSE server, which cannot be fronted yet');
    }
    warnings.push({ kind: 'assumed', path: where, message: 'no "type": taken to be a streamable HTTP server' });
    transport = 'http';
  } else {
    problems.push(`${where}: needs "command" or "url"`);
    return undefined;
  }

  const known = transport === 'stdio' ? STDIO_KEYS : HTTP_KEYS;
  const ignored = Object.keys(value).filter((key) => !known.has(key) && key !== 'disabled');
  if (ignored.length > 0) {
    warnings.push({ kind: 'ignored-keys', path: where, message: `ignored ${ignored.map((key) => `"${key}"`).join(', ')} (no Gatehouse equivalent for a ${transport} server)` });
  }

  const before = problems.length;
  if (transport === 'stdio') {
    const command = requiredString(value, 'command', entry.at, problems);
    const args = value.args === undefined ? undefined : stringList(value.args, [...entry.at, 'args'], problems);
    const env = value.env === undefined ? undefined : stringRecord(value.env, [...entry.at, 'env'], problems);
    let cwd = value.cwd === undefined ? undefined : requiredString(value, 'cwd', entry.at, problems);
    // Claude Code starts a project's servers in the project folder; keep them there.
    if (entry.projectDir !== undefined) cwd = cwd === undefined ? entry.projectDir : path.resolve(entry.projectDir, cwd);
    if (problems.length > before || command === undefined) return undefined;
    return {
      domain: IMPORT_DOMAIN,
      command,
      ...(args ? { args } : {}),
      ...(env && Object.keys(env).length > 0 ? { env } : {}),
      ...(cwd !== undefined ? { cwd } : {}),
    };
  }
  const url = requiredString(value, 'url', entry.at, problems);
  const headers = value.headers === undefined ? undefined : stringRecord(value.headers, [...entry.at, 'headers'], problems);
  if (problems.length > before || url === undefined) return undefined;
  if (!headers || !Object.keys(headers).some(looksLikeCredential)) {
    warnings.push({
      kind: 'no-auth',
      path: where,
      message: 'no credential header: if Claude signed in to it with OAuth, Gatehouse cannot do that yet; add a headers entry',
    });
  }
  return { domain: IMPORT_DOMAIN, url, ...(headers && Object.keys(headers).length > 0 ? { headers } : {}) };
}

function requiredString(entry: Record<string, unknown>, key: string, at: Segment[], problems: string[]): string | undefined {
  const value = entry[key];
  if (typeof value === 'string' && value.trim() !== '') return value;
  if (value === undefined) problems.push(`${formatJsonPath(at)}: type "${String(entry.type)}" needs "${key}"`);
  else problems.push(`${formatJsonPath([...at, key])}: must be a non-empty string`);
  return undefined;
}

/** Numbers and booleans are written as strings (JSON authors do `"PORT": 3000`); anything else is an error. */
function scalar(value: unknown, at: Segment[], problems: string[]): string | undefined {
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  problems.push(`${formatJsonPath(at)}: must be a string`);
  return undefined;
}

function stringList(value: unknown, at: Segment[], problems: string[]): string[] | undefined {
  if (!Array.isArray(value)) {
    problems.push(`${formatJsonPath(at)}: must be an array of strings`);
    return undefined;
  }
  return value.map((item, index) => scalar(item, [...at, index], problems) ?? '');
}

function stringRecord(value: unknown, at: Segment[], problems: string[]): Record<string, string> | undefined {
  if (!isObject(value)) {
    problems.push(`${formatJsonPath(at)}: must be an object of string values`);
    return undefined;
  }
  return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, scalar(item, [...at, key], problems) ?? '']));
}

/** Valid names are kept (first come, first served); the rest are sanitized and made unique with -2, -3, … */
function assignNames(drafts: Draft[], warnings: ImportWarning[]): string[] {
  const taken = new Set<string>();
  const names: Array<string | undefined> = drafts.map(({ entry }) => {
    if (!SERVER_NAME_PATTERN.test(entry.name) || taken.has(entry.name)) return undefined;
    taken.add(entry.name);
    return entry.name;
  });
  return drafts.map(({ entry }, index) => {
    const kept = names[index];
    if (kept !== undefined) return kept;
    const base = sanitizeServerName(entry.name);
    let name = base;
    for (let n = 2; taken.has(name); n++) name = `${base}-${n}`;
    taken.add(name);
    const why = SERVER_NAME_PATTERN.test(entry.name) ? 'an earlier server already has that name' : SERVER_NAME_RULE;
    warnings.push({ kind: 'renamed', path: formatJsonPath(entry.at), message: `renamed "${entry.name}" to "${name}" (${why})` });
    return name;
  });
}

/** `my.server` → `my-server`, `café` → `cafe`; never empty. */
export function sanitizeServerName(name: string): string {
  const cleaned = stripAccents(name)
    .replace(/[^A-Za-z0-9]+/g, (run) => (run === '_' ? '_' : '-'))
    .replace(/^[-_]+|[-_]+$/g, '');
  return cleaned || 'server';
}

/**
 * Runs the result through validateConfig with every referenced variable set to a placeholder,
 * so that the check is about the shape of the config, not about this machine's environment.
 */
function checkAgainstSchema(config: ImportedConfig, envToSet: EnvToSet[], options: ClaudeImportOptions, origins: Map<string, string>): void {
  const env: Record<string, string> = {};
  for (const { name } of envToSet) env[name] = 'placeholder';
  // A variable that starts a url must expand to something URL-shaped for the check to be about shape.
  for (const server of Object.values(config.servers)) {
    const first = 'url' in server ? /^\$\{([A-Za-z_][A-Za-z0-9_]*)\}/.exec(server.url) : null;
    if (first && first[1]! in env) env[first[1]!] = 'https://placeholder.invalid';
  }
  try {
    validateConfig(config, options.configPath ?? path.resolve('gatehouse.yaml'), env);
  } catch (error) {
    if (!isGatehouseError(error, 'GH_CONFIG_INVALID')) throw error;
    const problems = ((error.data.problems as string[] | undefined) ?? [error.message]).map((problem) => {
      const server = /^servers\.([A-Za-z0-9_-]+)/.exec(problem)?.[1];
      const origin = server === undefined ? undefined : origins.get(server);
      return origin ? `${problem} (from ${origin})` : problem;
    });
    throw new GatehouseError(
      'GH_IMPORT_INVALID',
      `${options.source}: the converted config does not pass the Gatehouse schema:\n  ${problems.join('\n  ')}`,
      { file: options.source, problems },
    );
  }
}

import type { ImportedServer } from './import-claude.js';

/**
 * Credential handling for `gatehouse import claude`: which keys name a secret, which variable
 * a literal secret moves to, and which secrets stay where they are (flags, URLs). No I/O: it
 * rewrites the converted servers it is given and returns JSON paths of the input, which
 * import-claude.ts turns into its messages.
 */

/** A JSON path in the input file: `['mcpServers', 'github', 'env', 'TOKEN']`. */
export type JsonPath = ReadonlyArray<string | number>;

/** A converted server, the name it got and the JSON path of its entry in the input. */
export interface ServerAt {
  name: string;
  at: JsonPath;
  server: ImportedServer;
}

/** An environment variable the converted servers read and that has no default. */
export interface VariableToSet {
  name: string;
  /** `extracted`: a literal credential was moved there; `referenced`: the input already used `${name}`. */
  reason: 'extracted' | 'referenced';
  /** Input JSON paths of the values that now read it. */
  at: JsonPath[];
}

/** A credential the import left in place, and what to tell the user about it (never the value). */
export interface KeptSecret {
  at: JsonPath;
  message: string;
}

/** What became of the credentials of the converted servers. */
export interface SecretHandling {
  /** Extracted variables first, then the ones the input referenced, each in input order. */
  variables: VariableToSet[];
  /** Credentials left where they were (flags, URLs); the caller warns about them. */
  kept: KeptSecret[];
}

interface References {
  /** Every name referenced, with or without a default. */
  all: Set<string>;
  /** Names referenced somewhere without a default, with the input paths that use them. */
  required: Map<string, JsonPath[]>;
}

/** The `${VAR}` / `${VAR:-default}` syntax that load.ts interpolates. */
const REFERENCE = /\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}/g;
/** Anything that already looks like a reference is left alone, even a syntax Gatehouse does not expand. */
const ANY_REFERENCE = /\$\{[^}]*\}/;
/** Provided by validateConfig itself, never by the environment. */
const BUILT_IN_VARS = new Set(['configDir', 'rootDir']);

const CREDENTIAL_WORDS = new Set([
  'token', 'tokens', 'key', 'keys', 'apikey', 'secret', 'secrets', 'password', 'passwd', 'pass', 'passphrase',
  'pat', 'credential', 'credentials', 'creds', 'auth', 'authorization', 'cookie', 'bearer', 'jwt',
]);
/** Compound words such as `accesstoken` or `clientsecret`. */
const CREDENTIAL_SUFFIXES = ['token', 'secret', 'password', 'passwd', 'apikey', 'accesskey', 'privatekey', 'secretkey'];
/** `TOKEN_URL`, `KEY_FILE`, `AUTH_MODE` name where or how a credential is found, not the credential. */
const NON_SECRET_TAILS = new Set(['url', 'uri', 'endpoint', 'host', 'hostname', 'port', 'path', 'file', 'dir', 'mode', 'type']);

/**
 * Moves credential-looking env and header values of `servers` to `${VAR}` references (in place,
 * unless `inlineSecrets`), and reports the variables the result reads without a default and the
 * credentials it could not move.
 */
export function handleSecrets(servers: readonly ServerAt[], inlineSecrets: boolean): SecretHandling {
  const referenced = collectReferences(servers);
  const extracted = inlineSecrets ? new Map<string, JsonPath[]>() : extractSecrets(servers, referenced);
  const variables: VariableToSet[] = [
    ...[...extracted].map(([name, at]) => ({ name, reason: 'extracted' as const, at })),
    ...[...referenced.required].filter(([name]) => !extracted.has(name)).map(([name, at]) => ({ name, reason: 'referenced' as const, at })),
  ];
  return { variables, kept: servers.flatMap(findKeptSecrets) };
}

/** True for keys such as GITHUB_TOKEN, apiKey, X-Api-Key, Authorization; false for PATH, AUTHOR, TOKEN_URL. */
export function looksLikeCredential(key: string): boolean {
  const words = key
    .split(/[^A-Za-z0-9]+|(?<=[a-z0-9])(?=[A-Z])/)
    .filter(Boolean)
    .map((word) => word.toLowerCase());
  if (words.length === 0 || NON_SECRET_TAILS.has(words[words.length - 1]!)) return false;
  return words.some((word) => CREDENTIAL_WORDS.has(word) || CREDENTIAL_SUFFIXES.some((suffix) => word.endsWith(suffix)));
}

/** `café` → `cafe`: server and variable names are ASCII, so accents are dropped rather than replaced. */
export function stripAccents(text: string): string {
  return text.normalize('NFKD').replace(/[\u0300-\u036f]/g, '');
}

/** `remote.api_X-Key` → `REMOTE_API_X_KEY`; never empty, never starting with a digit. */
function envName(text: string): string {
  const name = stripAccents(text).replace(/[^A-Za-z0-9]+/g, '_').replace(/^_+|_+$/g, '').toUpperCase() || 'SECRET';
  return /^[0-9]/.test(name) ? `_${name}` : name;
}

/** The `${VAR}` references in every string of the servers, except the built-in `${configDir}` and `${rootDir}`. */
function collectReferences(servers: readonly ServerAt[]): References {
  const refs: References = { all: new Set(), required: new Map() };
  for (const { at, server } of servers) {
    forEachString(server, (text, where) => {
      for (const match of text.matchAll(REFERENCE)) {
        const name = match[1]!;
        if (BUILT_IN_VARS.has(name)) continue;
        refs.all.add(name);
        if (match[2] !== undefined) continue;
        const paths = refs.required.get(name) ?? [];
        paths.push([...at, ...where]);
        refs.required.set(name, paths);
      }
    });
  }
  return refs;
}

function forEachString(value: unknown, visit: (text: string, at: JsonPath) => void, at: JsonPath = []): void {
  if (typeof value === 'string') visit(value, at);
  else if (Array.isArray(value)) value.forEach((item, index) => forEachString(item, visit, [...at, index]));
  else if (value !== null && typeof value === 'object') for (const [key, item] of Object.entries(value)) forEachString(item, visit, [...at, key]);
}

/**
 * Replaces credential-looking env and header values by `${VAR}` (in place) and returns the
 * variables with the input paths they came from. An env value keeps its key as the variable
 * name unless another server's different value or an existing reference already claims it;
 * then it becomes `<SERVER>_<KEY>` (then `_2`, `_3`, …). Headers always get `<SERVER>_<HEADER>`,
 * and an `Authorization: Bearer …` keeps its scheme in the config. Empty values and values that
 * already hold a `${…}` are left alone.
 */
function extractSecrets(servers: readonly ServerAt[], references: References): Map<string, JsonPath[]> {
  const claimed = new Map<string, { value: string; paths: JsonPath[] }>();
  const claim = (candidates: string[], value: string, where: JsonPath): string => {
    const free = (name: string) => !references.all.has(name) && (claimed.get(name)?.value ?? value) === value;
    const last = candidates[candidates.length - 1]!;
    let name = candidates.find(free);
    for (let n = 2; name === undefined; n++) if (free(`${last}_${n}`)) name = `${last}_${n}`;
    const slot = claimed.get(name) ?? { value, paths: [] };
    slot.paths.push(where);
    claimed.set(name, slot);
    return name;
  };
  for (const { name: serverName, at, server } of servers) {
    if ('env' in server && server.env) {
      for (const [key, value] of Object.entries(server.env)) {
        if (!isExtractable(key, value)) continue;
        const name = claim([envName(key), envName(`${serverName}_${key}`)], value, [...at, 'env', key]);
        server.env[key] = `\${${name}}`;
      }
    }
    if ('headers' in server && server.headers) {
      for (const [key, value] of Object.entries(server.headers)) {
        if (!isExtractable(key, value)) continue;
        // Keep the scheme in the config so that the variable holds just the token, as issued.
        const scheme = /^(Bearer|Basic|Token|Bot|Digest)\s+(\S.*)$/i.exec(value);
        const secret = scheme ? scheme[2]! : value;
        const name = claim([envName(`${serverName}_${key}`)], secret, [...at, 'headers', key]);
        server.headers[key] = scheme ? `${scheme[1]} \${${name}}` : `\${${name}}`;
      }
    }
  }
  return new Map([...claimed].map(([name, { paths }]) => [name, paths]));
}

function isExtractable(key: string, value: string): boolean {
  return value !== '' && !ANY_REFERENCE.test(value) && looksLikeCredential(key);
}

/**
 * Secrets the import does not move, so that they are at least pointed out: the value of a
 * credential-looking flag (`--token=x`, or `--api-key x`), a password in a URL, a
 * credential-looking query parameter. Messages name the flag or parameter, never the value.
 */
function findKeptSecrets({ at, server }: ServerAt): KeptSecret[] {
  const kept: KeptSecret[] = [];
  const keep = (where: JsonPath, what: string) =>
    kept.push({ at: [...at, ...where], message: `${what} looks like a credential and was kept as is; consider moving it to an environment variable (\${VAR} works there too)` });
  if ('command' in server && server.args) {
    const args = server.args;
    args.forEach((arg, index) => {
      const flag = /^--?([A-Za-z0-9][A-Za-z0-9_-]*)(=(.*))?$/.exec(arg);
      if (!flag || !looksLikeCredential(flag[1]!)) return;
      const next = args[index + 1];
      if (flag[2] !== undefined) {
        if (flag[3] && !ANY_REFERENCE.test(flag[3])) keep(['args', index], `the value of ${arg.split('=')[0]}`);
      } else if (next !== undefined && !next.startsWith('-') && !ANY_REFERENCE.test(next)) {
        keep(['args', index + 1], `the argument after ${arg}`);
      }
    });
  }
  if ('url' in server && URL.canParse(server.url)) {
    const url = new URL(server.url);
    if (url.password && !ANY_REFERENCE.test(decodeURIComponent(url.password))) keep(['url'], 'the password in the URL');
    for (const [key, value] of url.searchParams) {
      if (value && !ANY_REFERENCE.test(value) && looksLikeCredential(key)) keep(['url'], `the "${key}" query parameter`);
    }
  }
  return kept;
}

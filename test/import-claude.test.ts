import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parseYaml } from '../src/config/yaml.js';
import { importClaudeConfig, renderImportYaml, sanitizeServerName, type ClaudeImport } from '../src/config/import-claude.js';
import { looksLikeCredential } from '../src/config/import-secrets.js';
import { validateConfig } from '../src/config/load.js';
import { isGatehouseError } from '../src/core/errors.js';

import { CLI } from './helpers/gatehouse.js';

function convert(input: unknown, inlineSecrets = false): ClaudeImport {
  return importClaudeConfig(input, { source: 'claude.json', inlineSecrets, configPath: '/tmp/gatehouse.yaml' });
}

/** The error a conversion throws; fails the test when it does not throw GH_IMPORT_INVALID. */
function importError(input: unknown): Error {
  try {
    convert(input);
  } catch (error) {
    assert.ok(isGatehouseError(error, 'GH_IMPORT_INVALID'), `expected GH_IMPORT_INVALID, got ${String(error)}`);
    return error;
  }
  assert.fail('the import did not fail');
}

const DESKTOP = {
  globalShortcut: 'Ctrl+Space',
  mcpServers: {
    filesystem: { command: 'npx', args: ['-y', '@modelcontextprotocol/server-filesystem', '/Users/me/Desktop'] },
    github: {
      command: 'docker',
      args: ['run', '-i', '--rm', '-e', 'GITHUB_PERSONAL_ACCESS_TOKEN', 'ghcr.io/github/github-mcp-server'],
      env: { GITHUB_PERSONAL_ACCESS_TOKEN: 'ghp_desktop123', GITHUB_TOOLSETS: 'repos,issues', PORT: 3000 },
    },
  },
};

test('Claude Desktop: stdio servers become domain "imported", one eager profile and one agent, and pass the schema', () => {
  const result = convert(DESKTOP);
  assert.deepEqual(result.config, {
    servers: {
      filesystem: { domain: 'imported', command: 'npx', args: ['-y', '@modelcontextprotocol/server-filesystem', '/Users/me/Desktop'] },
      github: {
        domain: 'imported',
        command: 'docker',
        args: ['run', '-i', '--rm', '-e', 'GITHUB_PERSONAL_ACCESS_TOKEN', 'ghcr.io/github/github-mcp-server'],
        env: { GITHUB_PERSONAL_ACCESS_TOKEN: '${GITHUB_PERSONAL_ACCESS_TOKEN}', GITHUB_TOOLSETS: 'repos,issues', PORT: '3000' },
      },
    },
    profiles: { default: { mode: 'eager', allow: ['filesystem/*', 'github/*'] } },
    agents: { claude: { profiles: ['default'], tokenFile: '.gatehouse/tokens/claude.token' } },
  });
  assert.deepEqual(result.envToSet, [{ name: 'GITHUB_PERSONAL_ACCESS_TOKEN', reason: 'extracted', paths: ['mcpServers.github.env.GITHUB_PERSONAL_ACCESS_TOKEN'] }]);
  assert.deepEqual(result.warnings, []);

  // The YAML text, read back with the real environment variable set, is the same valid config.
  const yaml = renderImportYaml(result, '/Users/me/Library/Application Support/Claude/claude_desktop_config.json');
  assert.match(yaml, /^# Imported by `gatehouse import claude` from \/Users\/me\/Library\/Application Support\/Claude\/claude_desktop_config\.json\n/);
  assert.match(yaml, /^# Set before starting Gatehouse: GITHUB_PERSONAL_ACCESS_TOKEN$/m);
  assert.doesNotMatch(yaml, /ghp_desktop123/);
  assert.deepEqual(parseYaml(yaml), result.config);
  const loaded = validateConfig(parseYaml(yaml), '/tmp/gatehouse.yaml', { GITHUB_PERSONAL_ACCESS_TOKEN: 'ghp_real' });
  const github = loaded.servers.github!;
  assert.ok('env' in github);
  assert.equal(github.env.GITHUB_PERSONAL_ACCESS_TOKEN, 'ghp_real');
});

test('Claude Code .mcp.json: http and streamable-http are imported, sse is skipped with a warning naming it', () => {
  const result = convert({
    mcpServers: {
      linear: { type: 'http', url: 'https://mcp.linear.app/mcp', headers: { Authorization: 'Bearer lin_api_123', 'X-Client': 'gatehouse' } },
      search: { type: 'streamable-http', url: '${SEARCH_URL:-https://search.example.test}/mcp', headers: { 'X-Api-Key': '${SEARCH_KEY}' } },
      events: { type: 'sse', url: 'https://events.example.test/sse' },
      legacy: { url: 'https://old.example.test/sse' },
      local: { type: 'stdio', command: 'node', args: ['server.js'], cwd: 'tools' },
    },
  });
  assert.deepEqual(Object.keys(result.config.servers), ['linear', 'search', 'local']);
  assert.deepEqual(result.config.servers.linear, {
    domain: 'imported',
    url: 'https://mcp.linear.app/mcp',
    headers: { Authorization: 'Bearer ${LINEAR_AUTHORIZATION}', 'X-Client': 'gatehouse' },
  });
  // Existing references stay as they are; a variable with a default need not be set.
  assert.deepEqual(result.config.servers.search, {
    domain: 'imported',
    url: '${SEARCH_URL:-https://search.example.test}/mcp',
    headers: { 'X-Api-Key': '${SEARCH_KEY}' },
  });
  assert.deepEqual(result.config.servers.local, { domain: 'imported', command: 'node', args: ['server.js'], cwd: 'tools' });
  assert.deepEqual(result.envToSet, [
    { name: 'LINEAR_AUTHORIZATION', reason: 'extracted', paths: ['mcpServers.linear.headers.Authorization'] },
    { name: 'SEARCH_KEY', reason: 'referenced', paths: ['mcpServers.search.headers.X-Api-Key'] },
  ]);
  const skipped = result.warnings.filter((warning) => warning.kind === 'skipped');
  assert.deepEqual(skipped.map((warning) => warning.path), ['mcpServers.events', 'mcpServers.legacy']);
  assert.match(skipped[0]!.message, /"events": type "sse" cannot be fronted yet/);
  assert.match(skipped[1]!.message, /"legacy".*SSE/);
  assert.deepEqual(result.config.profiles.default.allow, ['linear/*', 'search/*', 'local/*']);
});

test('~/.claude.json: top-level and per-project servers are merged, later duplicates get a suffix, project servers keep their folder', () => {
  const result = convert({
    numStartups: 12,
    mcpServers: { github: { command: 'npx', args: ['-y', 'github-mcp'] } },
    projects: {
      '/home/me/app': {
        allowedTools: [],
        mcpServers: {
          github: { command: 'node', args: ['./mcp/github.js'] },
          db: { command: 'uvx', args: ['postgres-mcp'], cwd: 'backend' },
        },
      },
      '/home/me/empty': { mcpServers: {} },
      '/home/me/site': { mcpServers: { db: { type: 'http', url: 'http://localhost:4000/mcp' } } },
      '/home/me/none': { history: [] },
    },
  });
  const servers = result.config.servers;
  assert.deepEqual(Object.keys(servers), ['github', 'github-2', 'db', 'db-2']);
  assert.deepEqual(servers.github, { domain: 'imported', command: 'npx', args: ['-y', 'github-mcp'] });
  assert.deepEqual(servers['github-2'], { domain: 'imported', command: 'node', args: ['./mcp/github.js'], cwd: '/home/me/app' });
  assert.deepEqual(servers.db, { domain: 'imported', command: 'uvx', args: ['postgres-mcp'], cwd: '/home/me/app/backend' });
  assert.deepEqual(servers['db-2'], { domain: 'imported', url: 'http://localhost:4000/mcp' });
  const renames = result.warnings.filter((warning) => warning.kind === 'renamed');
  assert.deepEqual(
    renames.map((warning) => [warning.path, warning.message]),
    [
      ['projects["/home/me/app"].mcpServers.github', 'renamed "github" to "github-2" (an earlier server already has that name)'],
      ['projects["/home/me/site"].mcpServers.db', 'renamed "db" to "db-2" (an earlier server already has that name)'],
    ],
  );
  assert.deepEqual(result.config.profiles.default.allow, ['github/*', 'github-2/*', 'db/*', 'db-2/*']);
});

test('server names are sanitized to the schema rule and made unique, valid names keep theirs, renames are reported', () => {
  const result = convert({
    mcpServers: {
      'my.server': { command: 'a' },
      'my-server': { command: 'b' },
      'a__b': { command: 'c' },
      'café': { command: 'd' },
      '@scope/pkg': { command: 'e' },
      '...': { command: 'f' },
      snake_case: { command: 'g' },
    },
  });
  const byCommand = Object.fromEntries(Object.entries(result.config.servers).map(([name, server]) => [(server as { command: string }).command, name]));
  assert.deepEqual(byCommand, { a: 'my-server-2', b: 'my-server', c: 'a-b', d: 'cafe', e: 'scope-pkg', f: 'server', g: 'snake_case' });
  const renamed = result.warnings.filter((warning) => warning.kind === 'renamed').map((warning) => warning.path);
  assert.deepEqual(renamed, ['mcpServers["my.server"]', 'mcpServers.a__b', 'mcpServers["café"]', 'mcpServers["@scope/pkg"]', 'mcpServers["..."]']);
  assert.equal(sanitizeServerName('x--y..z'), 'x-y-z');
  assert.equal(sanitizeServerName('_lead_'), 'lead');
  assert.equal(sanitizeServerName('my_server.v2'), 'my_server-v2', 'a single _ is kept, as the rule allows it');
});

test('credential-looking env and header values become ${VAR} references; --inline-secrets keeps them', () => {
  const input = {
    mcpServers: {
      a: { command: 'x', env: { API_KEY: 'key-a', PATH: '/usr/bin', AUTHOR: 'me', TOKEN_URL: 'https://auth.test/token', dbPassword: 'pw', SHARED_TOKEN: 'same' } },
      b: { command: 'y', env: { API_KEY: 'key-b', SHARED_TOKEN: 'same', GITHUB_TOKEN: '${GITHUB_TOKEN}' } },
      c: { command: 'z', env: { CLIENT_SECRET: 'has ${ODD:?syntax}', EMPTY_TOKEN: '' } },
      'remote.api': { type: 'http', url: 'https://api.test/mcp', headers: { 'X-API-Key': 'xyz', Accept: 'application/json' } },
    },
  };
  const result = convert(input);
  assert.deepEqual(result.config.servers.a, {
    domain: 'imported',
    command: 'x',
    env: { API_KEY: '${API_KEY}', PATH: '/usr/bin', AUTHOR: 'me', TOKEN_URL: 'https://auth.test/token', dbPassword: '${DBPASSWORD}', SHARED_TOKEN: '${SHARED_TOKEN}' },
  });
  // A different value under the same key gets the server-prefixed name; the same value shares the variable.
  assert.deepEqual(result.config.servers.b, {
    domain: 'imported',
    command: 'y',
    env: { API_KEY: '${B_API_KEY}', SHARED_TOKEN: '${SHARED_TOKEN}', GITHUB_TOKEN: '${GITHUB_TOKEN}' },
  });
  assert.deepEqual(result.config.servers.c, { domain: 'imported', command: 'z', env: { CLIENT_SECRET: 'has ${ODD:?syntax}', EMPTY_TOKEN: '' } });
  assert.deepEqual(result.config.servers['remote-api'], {
    domain: 'imported',
    url: 'https://api.test/mcp',
    headers: { 'X-API-Key': '${REMOTE_API_X_API_KEY}', Accept: 'application/json' },
  });
  assert.deepEqual(
    result.envToSet.map(({ name, reason, paths }) => `${reason} ${name} ${paths.join(',')}`),
    [
      'extracted API_KEY mcpServers.a.env.API_KEY',
      'extracted DBPASSWORD mcpServers.a.env.dbPassword',
      'extracted SHARED_TOKEN mcpServers.a.env.SHARED_TOKEN,mcpServers.b.env.SHARED_TOKEN',
      'extracted B_API_KEY mcpServers.b.env.API_KEY',
      'extracted REMOTE_API_X_API_KEY mcpServers["remote.api"].headers.X-API-Key',
      'referenced GITHUB_TOKEN mcpServers.b.env.GITHUB_TOKEN',
    ],
  );
  const yaml = renderImportYaml(result, 'claude.json');
  for (const secret of ['key-a', 'key-b', 'xyz', ': pw']) assert.ok(!yaml.includes(secret), `${secret} leaked into the YAML`);

  const inline = convert(input, true);
  assert.deepEqual(inline.config.servers.a, { domain: 'imported', ...input.mcpServers.a });
  assert.deepEqual(inline.config.servers.b, { domain: 'imported', ...input.mcpServers.b });
  const { type: _type, ...remote } = input.mcpServers['remote.api'];
  assert.deepEqual(inline.config.servers['remote-api'], { domain: 'imported', ...remote });
  assert.deepEqual(inline.envToSet, [{ name: 'GITHUB_TOKEN', reason: 'referenced', paths: ['mcpServers.b.env.GITHUB_TOKEN'] }]);
});

test('a value whose key and <SERVER>_<KEY> are both claimed by other values gets <SERVER>_<KEY>_2', () => {
  const result = convert({
    mcpServers: {
      a: { command: 'x', env: { API_KEY: 'one' } },
      c: { command: 'x', env: { C_API_KEY: 'two', API_KEY: 'three' } },
    },
  });
  const env = (result.config.servers.c as { env: Record<string, string> }).env;
  assert.deepEqual(env, { C_API_KEY: '${C_API_KEY}', API_KEY: '${C_API_KEY_2}' });
  assert.deepEqual(result.envToSet.map((variable) => variable.name), ['API_KEY', 'C_API_KEY', 'C_API_KEY_2']);
});

test('${configDir} and ${rootDir} are filled in by Gatehouse, not variables to set', () => {
  const result = convert({ mcpServers: { mem: { command: 'x', env: { FILE: '${rootDir}/memory.jsonl', HOME_DIR: '${configDir}', MEM_TOKEN: '${MEM_TOKEN}' } } } });
  assert.deepEqual(result.envToSet, [{ name: 'MEM_TOKEN', reason: 'referenced', paths: ['mcpServers.mem.env.MEM_TOKEN'] }]);
});

test('flags: an empty --token= and a flag followed by another flag keep no secret; a URL password that is a reference is not one', () => {
  const result = convert({
    mcpServers: {
      cli: { command: 'tool', args: ['--token=', '--api-key', '--verbose', '--secret', 'shh'] },
      web: { type: 'http', url: 'https://user:${WEB_PASSWORD}@api.test/mcp', headers: { Authorization: 'Bearer t' } },
      leaky: { type: 'http', url: 'https://user:hunter2@api.test/mcp', headers: { Authorization: 'Bearer t' } },
    },
  });
  const kept = result.warnings.filter((warning) => warning.kind === 'secret-kept').map((warning) => warning.path);
  assert.deepEqual(kept, ['mcpServers.cli.args[4]', 'mcpServers.leaky.url']);
});

test('warnings: "disabled": false is not an ignored key; headers without a credential still warn of missing auth', () => {
  const result = convert({
    mcpServers: {
      local: { command: 'x', disabled: false },
      open: { type: 'http', url: 'https://open.test/mcp', headers: { Accept: 'application/json' } },
      signed: { type: 'http', url: 'https://signed.test/mcp', headers: { 'X-Api-Key': 'k' } },
    },
  });
  assert.deepEqual(
    result.warnings.filter((warning) => warning.kind !== 'secret-kept').map((warning) => `${warning.kind} ${warning.path}`),
    ['no-auth mcpServers.open'],
  );
});

test('a "disabled" that is not a boolean is refused, naming it, rather than read as enabled', () => {
  assert.equal(importError({ mcpServers: { off: { command: 'x', disabled: 'true' } } }).message, 'claude.json: mcpServers.off.disabled: must be true or false, not "true"');
  assert.equal(importError({ mcpServers: { off: { command: 'x', disabled: 1 } } }).message, 'claude.json: mcpServers.off.disabled: must be true or false, not 1');
});

test('a command of only spaces is no command', () => {
  assert.equal(importError({ mcpServers: { blank: { command: '   ' } } }).message, 'claude.json: mcpServers.blank.command: must be a non-empty string');
});

test('numbers and booleans become strings; a url that is one variable passes the schema check and is a variable to set', () => {
  const result = convert({
    mcpServers: {
      local: { command: 'x', args: ['--port', 3000, '--verbose', true], env: { DEBUG: true, PORT: 8080 } },
      remote: { type: 'http', url: '${REMOTE_MCP_URL}', headers: { Authorization: 'Bearer ${REMOTE_TOKEN}' } },
    },
  });
  assert.deepEqual(result.config.servers.local, { domain: 'imported', command: 'x', args: ['--port', '3000', '--verbose', 'true'], env: { DEBUG: 'true', PORT: '8080' } });
  assert.equal((result.config.servers.remote as { url: string }).url, '${REMOTE_MCP_URL}');
  assert.deepEqual(result.envToSet.map((env) => env.name), ['REMOTE_MCP_URL', 'REMOTE_TOKEN']);
});

test('credential detection works on words, not substrings', () => {
  for (const key of ['GITHUB_PERSONAL_ACCESS_TOKEN', 'apiKey', 'X-Api-Key', 'Authorization', 'proxy-authorization', 'DB_PASS', 'GITLAB_PAT', 'AWS_SECRET_ACCESS_KEY', 'SLACK_BOT_TOKEN', 'accesstoken', 'GOOGLE_CREDENTIALS', 'Cookie']) {
    assert.equal(looksLikeCredential(key), true, key);
  }
  for (const key of ['PATH', 'PWD', 'AUTHOR', 'KEYBOARD', 'PASSTHROUGH', 'TOKEN_URL', 'KEY_FILE', 'AUTH_MODE', 'LOG_LEVEL', 'Accept', 'HOME']) {
    assert.equal(looksLikeCredential(key), false, key);
  }
});

test('secrets left in args and URLs are pointed out, not silently kept', () => {
  const result = convert({
    mcpServers: {
      cli: { command: 'tool', args: ['--api-key', 'sk-1', '--token=abc', '--verbose', '--password', '${DB_PASSWORD}'] },
      web: { type: 'http', url: 'https://api.test/mcp?api_key=abc&page=2', headers: { Authorization: 'Bearer t' } },
    },
  });
  const kept = result.warnings.filter((warning) => warning.kind === 'secret-kept').map((warning) => warning.path);
  assert.deepEqual(kept, ['mcpServers.cli.args[1]', 'mcpServers.cli.args[2]', 'mcpServers.web.url']);
  for (const warning of result.warnings) assert.ok(!/sk-1|abc/.test(warning.message), `a warning shows a secret: ${warning.message}`);
});

test('invalid input fails with GH_IMPORT_INVALID naming the file and the JSON path', () => {
  assert.match(importError([1, 2]).message, /^claude\.json: \(root\): expected a JSON object/);
  assert.match(importError({ servers: {} }).message, /^claude\.json: \(root\): no "mcpServers" object/);
  assert.match(importError({ mcpServers: [] }).message, /^claude\.json: mcpServers: must be an object/);
  assert.match(importError({ mcpServers: {} }).message, /^claude\.json: mcpServers: is empty/);
  assert.equal(importError({ mcpServers: { github: { args: ['x'] } } }).message, 'claude.json: mcpServers.github: needs "command" or "url"');
  assert.equal(importError({ mcpServers: { github: 'npx github' } }).message, 'claude.json: mcpServers.github: must be an object with "command" or "url"');
  assert.equal(importError({ mcpServers: { remote: { type: 'http', command: 'x' } } }).message, 'claude.json: mcpServers.remote: type "http" needs "url"');

  const several = importError({
    mcpServers: { ok: { command: 'x' }, bad: { command: 'y', args: 'not-a-list', env: { A: { nested: true } } } },
    projects: { '/p': { mcpServers: { 'x.y': { command: '' } } } },
  });
  assert.equal(
    several.message,
    'claude.json cannot be imported:\n  mcpServers.bad.args: must be an array of strings\n  mcpServers.bad.env.A: must be a string\n  projects["/p"].mcpServers["x.y"].command: must be a non-empty string',
  );
  assert.deepEqual((several as unknown as { data: { file: string } }).data.file, 'claude.json');

  // Nothing left once SSE servers are skipped is an error, not an empty config.
  assert.match(importError({ mcpServers: { events: { type: 'sse', url: 'https://e.test/sse' } } }).message, /^claude\.json: mcpServers: no server can be imported/);

  // A config that converts but does not pass the schema names the schema problem and where it came from.
  const schema = importError({ mcpServers: { api: { type: 'http', url: 'not a url ${HOST}' } } });
  assert.match(schema.message, /^claude\.json: the converted config does not pass the Gatehouse schema:\n {2}servers\.api\.url: .*\(from mcpServers\.api\)$/);
});

/** Runs the real CLI; stdout and stderr both captured whatever the exit code. */
function cli(args: string[], env: Record<string, string> = {}): { status: number | null; stdout: string; stderr: string } {
  const run = spawnSync(process.execPath, [CLI, ...args], {
    env: { PATH: process.env.PATH ?? '', GATEHOUSE_LOG_LEVEL: 'warn', ...env },
    encoding: 'utf8',
  });
  return { status: run.status, stdout: run.stdout, stderr: run.stderr };
}

test('end to end: `gatehouse import claude` writes a config that `gatehouse config check` accepts once the variables are set', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'gatehouse-import-'));
  try {
    const input = path.join(dir, '.mcp.json');
    const out = path.join(dir, 'gatehouse.yaml');
    writeFileSync(
      input,
      `\uFEFF${JSON.stringify({
        mcpServers: {
          'memory.local': { command: 'npx', args: ['-y', '@modelcontextprotocol/server-memory'], env: { MEMORY_API_TOKEN: 'tok-e2e' } },
          linear: { type: 'http', url: 'https://mcp.linear.app/mcp', headers: { Authorization: 'Bearer lin-e2e' } },
          events: { type: 'sse', url: 'https://events.example.test/sse' },
        },
      })}`,
    );

    const imported = cli(['import', 'claude', input, '--out', out]);
    assert.equal(imported.status, 0, imported.stderr);
    assert.equal(imported.stdout, '');
    assert.match(imported.stderr, /^warning: mcpServers\.events: skipped server "events": type "sse"/m);
    assert.match(imported.stderr, /^warning: mcpServers\["memory\.local"\]: renamed "memory\.local" to "memory-local"/m);
    const yaml = readFileSync(out, 'utf8');
    assert.ok(yaml.startsWith(`# Imported by \`gatehouse import claude\` from ${input}\n`));
    assert.ok(!yaml.includes('tok-e2e') && !yaml.includes('lin-e2e'), 'a secret was written to the file');

    // The variables the import asked for, read from its stderr.
    const block = imported.stderr.split('Set these environment variables before starting Gatehouse:\n')[1] ?? '';
    const names = [...block.matchAll(/^ {2}([A-Z_][A-Z0-9_]*) /gm)].map((match) => match[1]!);
    assert.deepEqual(names, ['MEMORY_API_TOKEN', 'LINEAR_AUTHORIZATION']);

    const unset = cli(['config', 'check', out]);
    assert.equal(unset.status, 1, 'config check passed without the variables, so they were not references');
    assert.match(unset.stderr, /MEMORY_API_TOKEN is not set/);
    const checked = cli(['config', 'check', out], Object.fromEntries(names.map((name) => [name, `set-${name}`])));
    assert.equal(checked.status, 0, checked.stderr);
    assert.match(checked.stdout, /valid \(2 servers, 1 profiles, 1 agents\)/);

    // An existing --out file is not overwritten without --force.
    writeFileSync(out, 'keep me\n');
    const refused = cli(['import', 'claude', input, '--out', out]);
    assert.equal(refused.status, 1);
    assert.match(refused.stderr, /^error GH_OUTPUT_EXISTS: .*already exists; pass --force/);
    assert.equal(readFileSync(out, 'utf8'), 'keep me\n');
    const forced = cli(['import', 'claude', input, '--out', out, '--force', '--inline-secrets']);
    assert.equal(forced.status, 0, forced.stderr);
    assert.match(readFileSync(out, 'utf8'), /Bearer lin-e2e/);
    assert.doesNotMatch(forced.stderr, /Set these environment variables/);
    assert.equal(statSync(out).mode & 0o777, 0o600, 'a file with inlined secrets is readable by others');

    // Without --out the YAML goes to stdout, warnings to stderr.
    const printed = cli(['import', 'claude', input]);
    assert.equal(printed.status, 0, printed.stderr);
    assert.deepEqual(Object.keys((parseYaml(printed.stdout) as { servers: object }).servers), ['memory-local', 'linear']);
    assert.doesNotMatch(printed.stdout, /warning/);

    // Bad input: exit 1 with the code, the file and the path.
    const badFile = path.join(dir, 'bad.json');
    writeFileSync(badFile, JSON.stringify({ mcpServers: { github: { env: {} } } }));
    const bad = cli(['import', 'claude', badFile]);
    assert.equal(bad.status, 1);
    assert.equal(bad.stderr, `error GH_IMPORT_INVALID: ${badFile}: mcpServers.github: needs "command" or "url"\n`);
    writeFileSync(badFile, '{ "mcpServers": ');
    const notJson = cli(['import', 'claude', badFile]);
    assert.equal(notJson.status, 1);
    assert.match(notJson.stderr, new RegExp(`^error GH_IMPORT_INVALID: ${badFile.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: not JSON: `));
    const missing = cli(['import', 'claude', path.join(dir, 'missing.json')]);
    assert.equal(missing.status, 1);
    assert.match(missing.stderr, /GH_IMPORT_INVALID: .*missing\.json: cannot read it/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

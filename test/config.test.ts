import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { findConfigPath, validateConfig } from '../src/config/load.js';
import { isGatehouseError } from '../src/core/errors.js';
import { REPO, runCli, standardConfig, tempConfig } from './helpers/gatehouse.js';

function problemsOf(raw: unknown, env: NodeJS.ProcessEnv = {}): string[] {
  try {
    validateConfig(raw, '/tmp/gatehouse.yaml', env);
  } catch (error) {
    if (isGatehouseError(error, 'GH_CONFIG_INVALID')) return error.data.problems as string[];
    throw error;
  }
  return [];
}

describe('configuration', () => {
  test('the bundled example is valid', () => {
    const result = runCli(['config', 'check', path.join(REPO, 'examples/gatehouse.yaml')]);
    assert.equal(result.status, 0, result.stderr);
    assert.match(result.stdout, /valid \(5 servers, 2 profiles, 1 agents\)/);
  });

  test('audit: defaults (seven years, a key file beside the store, checkpoints every 1000 events or minute), per-type retention of known types only', () => {
    const audit = validateConfig(standardConfig(), '/tmp/x/gatehouse.yaml', {}).audit;
    assert.deepEqual(audit, {
      signingKeyFile: '/tmp/x/.gatehouse/audit-signing-key.pem',
      deadLetterFile: '/tmp/x/.gatehouse/dead-letters.jsonl',
      checkpointEveryEvents: 1000,
      checkpointEveryMs: 60_000,
      retention: { defaultDays: 2557, daysByType: {} },
    });
    assert.deepEqual(validateConfig(standardConfig({ audit: { retention: { daysByType: { 'tools.listed': 30 } } } }), '/tmp/x/gatehouse.yaml', {}).audit.retention, {
      defaultDays: 2557,
      daysByType: { 'tools.listed': 30 },
    });
    assert.deepEqual(problemsOf(standardConfig({ audit: { retention: { daysByType: { 'tool.called': 5 } }, checkpointEveryMs: -1 } })), [
      'audit.checkpointEveryMs: Too small: expected number to be >=0',
      'audit.retention.daysByType: Unrecognized key: "tool.called"',
    ]);
  });

  test('every problem is reported with the path of its key', () => {
    const config = standardConfig();
    const profiles = config.profiles as Record<string, { allow: string[]; mode?: string }>;
    profiles.research!.allow = ['everything/*', 'filesystem/read_*', 'gdrive/*'];
    profiles.narrow!.mode = 'sometimes';
    (config.agents as Record<string, { profiles: string[] }>).bob!.profiles = ['narrow', 'nope'];
    (config.servers as Record<string, unknown>)['bad__name'] = { command: 'x' };
    (config as Record<string, unknown>).colour = 'blue';
    const problems = problemsOf(config);
    assert.ok(problems.includes('profiles.research.allow[2]: unknown server "gdrive"'), problems.join('\n'));
    assert.ok(problems.some((p) => p.startsWith('profiles.narrow.mode: ')), problems.join('\n'));
    assert.ok(problems.includes('agents.bob.profiles[1]: unknown profile "nope"'), problems.join('\n'));
    assert.ok(problems.includes('servers.bad__name: the name "bad__name" is not allowed: a server name is letters, digits and single - or _ between them'), problems.join('\n'));
    assert.ok(problems.some((p) => /colour/.test(p)), problems.join('\n'));
  });

  test('a server needs a command or a url, an agent exactly one token source, an allow entry the form server/tool', () => {
    const problems = problemsOf({
      servers: { a: { domain: 'x' } },
      profiles: { p: { allow: ['a'] } },
      agents: { z: { profiles: ['p'], tokenEnv: 'A', tokenFile: 'b' } },
    });
    assert.ok(problems.includes('servers.a: needs "command" (a stdio server) or "url" (a streamable HTTP server)'), problems.join('\n'));
    assert.ok(problems.some((p) => p === 'profiles.p.allow[0]: "a" is not of the form server/tool (globs allowed, e.g. "everything/*")'), problems.join('\n'));
    assert.ok(problems.some((p) => p.startsWith('agents.z') && /exactly one/.test(p)), problems.join('\n'));
  });

  test('${VAR} interpolation names the key whose variable is missing; ${VAR:-default} falls back', () => {
    const config = {
      servers: { crm: { url: 'https://crm.example/mcp', headers: { Authorization: 'Bearer ${CRM_TOKEN}' } } },
      profiles: { p: { allow: ['crm/*'] } },
      store: { kind: 'sqlite', path: '${STATE:-.state}/g.db' },
      root: 'r',
      defaults: { idleTimeoutMs: 1000 },
    };
    (config.servers as Record<string, unknown>).local = { command: 'x', env: { FILE: '${STATE:-${rootDir}/state}/f' } };
    assert.deepEqual(problemsOf(config), ['servers.crm.headers.Authorization: environment variable CRM_TOKEN is not set']);
    const ok = validateConfig(config, '/tmp/x/gatehouse.yaml', { CRM_TOKEN: 's3cret' });
    assert.equal(ok.store.kind === 'sqlite' && ok.store.path, '/tmp/x/r/.state/g.db');
    assert.equal((ok.servers.local as { env: Record<string, string> }).env.FILE, '/tmp/x/r/state/f', 'a fallback may use ${rootDir}');
    const moved = validateConfig(config, '/tmp/x/gatehouse.yaml', { CRM_TOKEN: 's', STATE: '/var/lib/gh' });
    assert.equal((moved.servers.local as { env: Record<string, string> }).env.FILE, '/var/lib/gh/f');
    assert.ok(Object.isFrozen(ok.servers.crm), 'the config is frozen');
    // root itself may use the environment (and ${configDir}); ${rootDir} is then that folder.
    const rooted = validateConfig({ ...config, root: '${GH_HOME:-${configDir}/home}' }, '/tmp/x/gatehouse.yaml', { CRM_TOKEN: 's', GH_HOME: '/srv/gatehouse' });
    assert.equal(rooted.rootDir, '/srv/gatehouse');
    assert.equal(rooted.store.kind === 'sqlite' && rooted.store.path, '/srv/gatehouse/.state/g.db');
    assert.equal((rooted.servers.local as { env: Record<string, string> }).env.FILE, '/srv/gatehouse/state/f');
    assert.equal(validateConfig({ ...config, root: '${GH_HOME:-${configDir}/home}' }, '/tmp/x/gatehouse.yaml', { CRM_TOKEN: 's' }).rootDir, '/tmp/x/home');
    assert.deepEqual(problemsOf({ ...config, servers: {}, profiles: {}, root: '${NO_SUCH_ROOT}' }), ['root: environment variable NO_SUCH_ROOT is not set']);
  });

  test('an empty variable counts as unset: ${VAR} is an error naming the key, ${VAR:-default} falls back', () => {
    const config = {
      servers: { crm: { url: 'https://crm.example/mcp', headers: { Authorization: 'Bearer ${CRM_TOKEN}' } } },
      profiles: { p: { allow: ['crm/*'] } },
      store: { kind: 'sqlite', path: '${STATE:-.state}/g.db' },
    };
    // An empty token would send "Authorization: Bearer " and fail far from its cause.
    assert.deepEqual(problemsOf(config, { CRM_TOKEN: '', STATE: '' }), ['servers.crm.headers.Authorization: environment variable CRM_TOKEN is not set']);
    const ok = validateConfig(config, '/tmp/x/gatehouse.yaml', { CRM_TOKEN: 't', STATE: '' });
    assert.equal(ok.store.kind === 'sqlite' && ok.store.path, '/tmp/x/.state/g.db', 'an empty STATE is not "" (a store at /g.db)');
  });

  test('a missing variable in a list names its index', () => {
    const config = { servers: { local: { command: 'x', args: ['--verbose', '--key=${LOCAL_KEY}'] } }, profiles: {} };
    assert.deepEqual(problemsOf(config), ['servers.local.args[1]: environment variable LOCAL_KEY is not set']);
  });

  test('relative paths (store, a server cwd, agent and operator token files) are resolved against root, not the config folder', () => {
    const config = validateConfig(
      {
        root: 'r',
        store: { path: 'g.db' },
        servers: { local: { command: 'x', cwd: 'work' }, fixed: { command: 'x', cwd: '/srv/fixed' }, plain: { command: 'x' } },
        profiles: { p: { allow: ['local/*'] } },
        agents: { a: { profiles: ['p'], tokenFile: 'tokens/a.token' }, b: { profiles: ['p'], tokenEnv: 'B' } },
        operators: { o: { tokenFile: 'tokens/o.token' } },
      },
      '/tmp/x/gatehouse.yaml',
      {},
    );
    const cwd = (name: string) => (config.servers[name] as { cwd?: string }).cwd;
    assert.equal(config.store.kind === 'sqlite' && config.store.path, '/tmp/x/r/g.db');
    assert.equal(cwd('local'), '/tmp/x/r/work');
    assert.equal(cwd('fixed'), '/srv/fixed');
    assert.equal(cwd('plain'), '/tmp/x/r', 'a stdio server without cwd runs in root');
    assert.equal(config.agents.a!.tokenFile, '/tmp/x/r/tokens/a.token');
    assert.equal(config.agents.b!.tokenFile, undefined);
    assert.equal(config.operators.o!.tokenFile, '/tmp/x/r/tokens/o.token');
  });

  test('a server entry that fits neither shape gets the problems of the shape it meant: url → HTTP, command → stdio', () => {
    const problems = problemsOf({
      servers: { remote: { url: 'https://remote.example/mcp', headers: 'Bearer x' }, local: { command: 'x', args: '--verbose' } },
      profiles: {},
    });
    assert.deepEqual(problems.sort(), ['servers.local.args: Invalid input: expected array, received string', 'servers.remote.headers: Invalid input: expected record, received string']);
  });

  test('without --config: ./gatehouse.yaml in the working folder, else the bundled example; a named file must exist', () => {
    const temp = tempConfig({});
    try {
      const empty = mkdtempSync(path.join(temp.dir, 'empty-'));
      assert.equal(findConfigPath(undefined, empty), path.join(REPO, 'examples/gatehouse.yaml'));
      writeFileSync(path.join(empty, 'gatehouse.yaml'), 'servers: {}\nprofiles: {}\n');
      assert.equal(findConfigPath(undefined, empty), path.join(empty, 'gatehouse.yaml'));
      assert.equal(findConfigPath('gatehouse.yaml', empty), path.join(empty, 'gatehouse.yaml'), 'relative to the working folder');
      assert.throws(() => findConfigPath('nope.yaml', empty), (error) => isGatehouseError(error, 'GH_CONFIG_NOT_FOUND'));
    } finally {
      temp.cleanup();
    }
  });

  test('a postgres store takes its connection string from the environment and is not a path', () => {
    const config = { servers: {}, profiles: {}, store: { kind: 'postgres', url: '${DATABASE_URL}' } };
    assert.deepEqual(problemsOf(config), ['store.url: environment variable DATABASE_URL is not set']);
    const ok = validateConfig(config, '/tmp/x/gatehouse.yaml', { DATABASE_URL: 'postgres://gh:pw@db:5432/gatehouse' });
    assert.deepEqual(ok.store, { kind: 'postgres', url: 'postgres://gh:pw@db:5432/gatehouse', poolSize: 10, durability: 'power' });
    assert.deepEqual(problemsOf({ ...config, store: { kind: 'postgres' } }), ['store.url: Invalid input: expected string, received undefined']);
    assert.deepEqual(problemsOf({ ...config, store: { kind: 'postgres', url: 'x', path: 'y' } }).length, 1, 'a postgres store has no path');
  });

  test('store.durability: each adapter keeps its default (sqlite process, postgres power); only process or power', () => {
    const store = (value: Record<string, unknown>) => validateConfig({ servers: {}, profiles: {}, store: value }, '/tmp/x/gatehouse.yaml', {}).store;
    assert.equal(store({ kind: 'sqlite' }).durability, 'process');
    assert.equal(store({ kind: 'postgres', url: 'postgres://db/g' }).durability, 'power');
    assert.equal(store({ kind: 'sqlite', durability: 'power' }).durability, 'power');
    assert.equal(store({ kind: 'postgres', url: 'postgres://db/g', durability: 'process' }).durability, 'process');
    assert.equal(validateConfig({ servers: {}, profiles: {} }, '/tmp/x/gatehouse.yaml', {}).store.durability, 'process', 'the default store');
    assert.deepEqual(problemsOf({ servers: {}, profiles: {}, store: { kind: 'sqlite', durability: 'disk' } }), ['store.durability: Invalid option: expected one of "process"|"power"']);
  });

  test('store.kind defaults to sqlite also when store names only a path; an empty path is refused', () => {
    const store = validateConfig({ servers: {}, profiles: {}, store: { path: 'state/g.db' } }, '/tmp/x/gatehouse.yaml', {}).store;
    assert.deepEqual(store, { kind: 'sqlite', path: '/tmp/x/state/g.db', durability: 'process' });
    assert.deepEqual(problemsOf({ servers: {}, profiles: {}, store: { path: '' } }), ['store.path: give a file path, or leave store.path out for the default']);
    assert.deepEqual(problemsOf({ servers: {}, profiles: {}, store: { kind: 'mysql' } }).length, 1);
  });

  test('gatehouse config check exits 1 and prints each problem; YAML and JSON both load', () => {
    const temp = tempConfig({});
    try {
      writeFileSync(temp.configPath, 'servers: {}\nprofiles:\n  p: { allow: ["ghost/*"] }\n');
      const bad = runCli(['config', 'check', temp.configPath]);
      assert.equal(bad.status, 1);
      assert.match(bad.stderr, /profiles\.p\.allow\[0\]: unknown server "ghost"/);
      const json = path.join(temp.dir, 'gatehouse.json');
      writeFileSync(json, JSON.stringify(standardConfig()));
      const good = runCli(['config', 'check', '--config', json], { TEST_TOKEN_ALICE: 'a', TEST_TOKEN_BOB: 'b' });
      assert.equal(good.status, 0, good.stderr);
      const missing = runCli(['config', 'check', path.join(temp.dir, 'nope.yaml')]);
      assert.equal(missing.status, 1);
      assert.match(missing.stderr, /GH_CONFIG_NOT_FOUND/);
    } finally {
      temp.cleanup();
    }
  });

  test('every command has --help', () => {
    for (const command of [[], ['serve'], ['connect'], ['config', 'check'], ['import', 'claude'], ['index']]) {
      const result = runCli([...command, '--help']);
      assert.equal(result.status, 0, `${command.join(' ')} --help`);
      assert.match(result.stdout, /Usage: gatehouse/);
      if (command.length > 0) assert.match(result.stdout, /--config <file>/, command.join(' '));
    }
  });

  test('import claude --config FILE writes the imported config there', () => {
    const temp = tempConfig({});
    try {
      const claude = path.join(temp.dir, 'claude.json');
      writeFileSync(claude, JSON.stringify({ mcpServers: { everything: { command: 'node', args: ['x.js'] } } }));
      const target = path.join(temp.dir, 'imported.yaml');
      const result = runCli(['import', 'claude', claude, '--config', target]);
      assert.equal(result.status, 0, result.stderr);
      assert.equal(runCli(['config', 'check', target]).status, 0);
      const clash = runCli(['import', 'claude', claude, '--config', target, '--out', path.join(temp.dir, 'other.yaml')]);
      assert.equal(clash.status, 1);
      assert.match(clash.stderr, /--out and --config name different files/);
    } finally {
      temp.cleanup();
    }
  });
});

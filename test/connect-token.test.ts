import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { runCli, standardConfig, stdioClient, tempConfig, text } from './helpers/gatehouse.js';

/** The agent column of the store's events of `types`, in order. */
function agentsOf(dbPath: string, types: string[]): string[] {
  const db = new Database(dbPath, { readonly: true, fileMustExist: true });
  try {
    return db.prepare(`SELECT agent FROM events WHERE type IN (${types.map(() => '?').join(',')}) ORDER BY seq`).pluck().all(...types) as string[];
  } finally {
    db.close();
  }
}

test('gatehouse connect --token-env: the stdio session is that agent\'s (its events, its rate limit); without it, the local user\'s', async () => {
  const config = standardConfig();
  const agents = config.agents as Record<string, Record<string, unknown>>;
  agents.alice!.rateLimit = { callsPerSecond: 0.01, burst: 1 };
  const temp = tempConfig(config);
  const dbPath = path.join(temp.dir, 'state/gatehouse.db');
  try {
    for (const [extraArgs, agent] of [[['--token-env', 'TEST_TOKEN_ALICE'], 'alice'], [[], 'local:builder']] as const) {
      const { client } = await stdioClient(temp.configPath, 'builder', {}, [...extraArgs]);
      try {
        assert.equal(text(await client.callTool({ name: 'everything__echo', arguments: { message: agent } })), `Echo: ${agent}`);
        const second = text(await client.callTool({ name: 'everything__echo', arguments: { message: 'again' } }));
        if (agent === 'alice') assert.match(second, /^GH_RATE_LIMITED: /, 'alice\'s rate limit (one call) holds over stdio');
        else assert.equal(second, 'Echo: again', 'the local user is not alice');
      } finally {
        await client.close();
      }
    }
    assert.deepEqual(agentsOf(dbPath, ['tool.call.succeeded']), ['alice', 'local:builder', 'local:builder']);
    assert.deepEqual(agentsOf(dbPath, ['tool.call.failed']), ['alice']);
    assert.deepEqual(agentsOf(dbPath, ['session.opened']), ['alice', 'local:builder']);
  } finally {
    temp.cleanup();
  }
});

test('gatehouse connect --token-env refuses a missing, unknown or wrong-profile token before it starts anything', () => {
  const temp = tempConfig(standardConfig());
  try {
    const refused = (env: Record<string, string>, tokenEnv: string, profile: string, code: string, message: RegExp) => {
      const result = runCli(['connect', '--profile', profile, '--config', temp.configPath, '--token-env', tokenEnv], env);
      assert.equal(result.status, 1, result.stdout);
      assert.match(result.stderr, new RegExp(`^error ${code}: `));
      assert.match(result.stderr, message);
      assert.doesNotMatch(result.stderr, /\n\s+at /, 'no stack trace');
    };
    refused({}, 'NO_SUCH_VAR', 'builder', 'GH_AUTH_MISSING', /--token-env NO_SUCH_VAR: the environment variable NO_SUCH_VAR is not set or empty/);
    refused({ SOME_TOKEN: 'not-a-token-of-this-config' }, 'SOME_TOKEN', 'builder', 'GH_AUTH_UNKNOWN_TOKEN', /unknown bearer token/);
    refused({}, 'TEST_TOKEN_BOB', 'builder', 'GH_AUTH_PROFILE_FORBIDDEN', /agent "bob" may not use profile "builder"/);
    assert.equal(existsSync(path.join(temp.dir, 'state/gatehouse.db')), false, 'no gateway was opened');
  } finally {
    temp.cleanup();
  }
});

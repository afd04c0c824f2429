import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { GatehouseError } from '../src/core/errors.js';
import { loadConfig, validateConfig } from '../src/config/load.js';
import { configSecretValues } from '../src/config/secret-values.js';
import { createLogger, SecretValues } from '../src/log.js';
import { CLI, httpClient, SERVERS, TEST_ENV, tempConfig, TOKENS } from './helpers/gatehouse.js';

const SERVER_KEY = 'sk-leaky-0123456789abcdef';
const REMOTE_TOKEN = 'remote-secret-0123456789';
const OTLP_KEY = 'otlp-secret-0123456789';
const AGENT_TOKEN = 'agent-bearer-0123456789';
const CONFIRM_TOKEN = 'ghc1.eyJwcmVmbGlnaHQiOiJwZl8xIn0.c2lnbmF0dXJlLWJ5dGVz';

/** A config whose credentials can reach a log line: a server that prints its key when it fails, and remote headers. */
function leakyConfig(): Record<string, unknown> {
  return {
    store: { kind: 'sqlite', path: 'state/gatehouse.db' },
    servers: {
      everything: SERVERS.everything,
      leaky: {
        command: process.execPath,
        args: ['-e', "console.error('refused api key ' + process.env.LEAKY_API_KEY); process.exit(1)"],
        env: { LEAKY_API_KEY: SERVER_KEY, LOG_LEVEL: 'info' },
      },
      remote: { url: 'http://127.0.0.1:9/mcp', headers: { Authorization: `Bearer ${REMOTE_TOKEN}` } },
    },
    profiles: { all: { allow: ['everything/*', 'leaky/*', 'remote/*'] } },
    agents: { alice: { profiles: ['all'], tokenEnv: 'TEST_TOKEN_ALICE' } },
    // Nothing listens on port 9: every export fails, and the failure is logged.
    tracing: { enabled: true, endpoint: 'http://127.0.0.1:9/v1/traces', headers: { 'x-api-key': OTLP_KEY } },
  };
}

test('the real logger removes credentials by key, by pattern and by known value, and keeps the rest', () => {
  const temp = tempConfig(leakyConfig());
  try {
    const secrets = new SecretValues();
    secrets.add(configSecretValues(loadConfig(temp.configPath, TEST_ENV)));
    const lines: string[] = [];
    const log = createLogger('debug', { destination: { write: (line: string) => void lines.push(line) }, secrets });

    log.info({ headers: { authorization: `Bearer ${AGENT_TOKEN}` }, server: 'remote' }, 'request');
    log.info({ request: { headers: { 'x-api-key': OTLP_KEY } }, config: { servers: { leaky: { env: { LEAKY_API_KEY: SERVER_KEY } } } } }, 'nested');
    log.info({ token: AGENT_TOKEN, password: 'hunter2-0123456789', secret: 'shh-0123456789', apiKey: 'ak-0123456789' }, 'flat');
    log.error({ err: new GatehouseError('GH_CONFIRM_REQUIRED', `call again with confirm_token: "${CONFIRM_TOKEN}"`, { confirmToken: CONFIRM_TOKEN }) }, 'held');
    log.warn({ server: 'leaky', error: `server "leaky" could not be started (its stderr ends: refused api key ${SERVER_KEY})` }, 'listing skipped a server');
    log.warn(`connecting with Authorization: Bearer ${AGENT_TOKEN} to postgres://gatehouse:pg-password-0123@db.internal/gh`);
    log.info({ tool: 'echo', gate: 'G0', session: 'ordinary-value-kept' }, 'ordinary fields are kept');

    const output = lines.join('');
    for (const secret of [AGENT_TOKEN, OTLP_KEY, SERVER_KEY, REMOTE_TOKEN, CONFIRM_TOKEN, 'hunter2-0123456789', 'shh-0123456789', 'ak-0123456789', 'pg-password-0123']) {
      assert.ok(!output.includes(secret), `"${secret}" appears in:\n${output}`);
    }
    assert.equal(lines.length, 7, 'every line was written');
    assert.match(output, /refused api key \[redacted\]/, 'a known value inside free text');
    assert.match(output, /"confirmToken":"\[redacted\]"/, 'a key inside an error’s data');
    assert.match(output, /Bearer \[redacted\] to postgres:\/\/\[redacted\]@db\.internal/);
    assert.match(output, /"session":"ordinary-value-kept"/);
    assert.match(output, /"server":"remote"/);
  } finally {
    temp.cleanup();
  }
});

test('the values scrubbed by value: credential env and header values (also without their scheme) and every OTLP header, not the rest', () => {
  const config = validateConfig(
    {
      servers: {
        local: { command: 'x', env: { GITHUB_TOKEN: 'ghp-local-0123456789', LOG_LEVEL: 'debug-verbose' } },
        remote: { url: 'https://remote.example/mcp', headers: { Authorization: `Bearer ${REMOTE_TOKEN}`, Accept: 'application/json' } },
      },
      profiles: {},
      // A collector's key under a name that says nothing: every exporter header is a credential.
      tracing: { headers: { 'x-honeycomb-team': 'otlp-team-0123456789' } },
    },
    '/tmp/gatehouse.yaml',
    {},
  );
  assert.deepEqual(configSecretValues(config).sort(), ['ghp-local-0123456789', `Bearer ${REMOTE_TOKEN}`, REMOTE_TOKEN, 'otlp-team-0123456789'].sort());
});

test('a real gatehouse serve at debug level never writes a configured credential or a bearer token to its log', async () => {
  const temp = tempConfig(leakyConfig());
  const child = spawn(process.execPath, [CLI, 'serve', '--config', temp.configPath, '--host', '127.0.0.1', '--port', '0', '--quiet'], {
    env: { ...process.env, ...TEST_ENV, GATEHOUSE_LOG_LEVEL: 'debug' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  try {
    const url = await new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`serve did not listen:\n${stderr}`)), 15_000);
      createInterface({ input: child.stdout }).on('line', (line) => {
        const match = /^gatehouse listening on (\S+)/.exec(line);
        if (match) {
          clearTimeout(timer);
          resolve(match[1]!);
        }
      });
    });
    // A stranger's token, refused.
    const refused = await fetch(`${url}/mcp/all`, { method: 'POST', headers: { Authorization: `Bearer ${AGENT_TOKEN}`, 'Content-Type': 'application/json' }, body: '{}' });
    assert.equal(refused.status, 401);
    // Listing starts every server: leaky prints its key and dies, remote cannot be reached.
    const client = await httpClient(url, 'all', TOKENS.alice);
    await client.listTools();
    await client.callTool({ name: 'everything__echo', arguments: { message: 'a span to export' } });
    await client.close();
  } finally {
    child.kill('SIGTERM'); // the span flush at shutdown fails against port 9, and says so
    await exited;
    temp.cleanup();
  }
  assert.match(stderr, /refused api key \[redacted\]/, `the leaky server's line was logged, scrubbed:\n${stderr}`);
  assert.match(stderr, /tracing: /, `the export failure was logged:\n${stderr}`);
  for (const secret of [SERVER_KEY, REMOTE_TOKEN, OTLP_KEY, AGENT_TOKEN, TOKENS.alice]) {
    assert.ok(!stderr.includes(secret), `"${secret}" appears in the log:\n${stderr}`);
  }
});

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { validateConfig } from '../src/config/load.js';
import { sha256Hex } from '../src/core/binding.js';
import { isGatehouseError } from '../src/core/errors.js';
import { TokenBook } from '../src/gateway/tokens.js';

const profiles = { low: { allow: ['s/read'] }, high: { allow: ['s/*'] } };

function book(raw: Record<string, unknown>, env: NodeJS.ProcessEnv = {}): TokenBook {
  return new TokenBook(validateConfig({ servers: { s: { command: 'x' } }, profiles, ...raw }, '/tmp/gatehouse.yaml', env), env);
}

function refusal(run: () => unknown): string {
  try {
    run();
  } catch (error) {
    assert.ok(isGatehouseError(error, 'GH_CONFIG_INVALID'), String(error));
    return error.message;
  }
  assert.fail('accepted');
}

test('one token for two agents is refused, in the config when it shows there and when the tokens are read otherwise', () => {
  const digest = sha256Hex('shared-token-0123');
  const problems = refusal(() => book({ agents: { reader: { profiles: ['low'], tokenSha256: digest }, admin_bot: { profiles: ['high'], tokenSha256: digest } } }));
  assert.match(problems, /agents\.admin_bot\.tokenSha256: the same token as agent "reader"/);
  assert.match(refusal(() => book({ agents: { reader: { profiles: ['low'], tokenEnv: 'T' }, admin_bot: { profiles: ['high'], tokenEnv: 'T' } } }, { T: 'x-token-0123' })), /agents\.admin_bot\.tokenEnv: the same token as agent "reader"/);
  // Two variables holding one value: only the values show it.
  const message = refusal(() => book({ agents: { reader: { profiles: ['low'], tokenEnv: 'A' }, admin_bot: { profiles: ['high'], tokenEnv: 'B' } } }, { A: 'same-0123456', B: 'same-0123456' }));
  assert.equal(message, 'agents "reader" and "admin_bot" have the same token: each agent needs its own');
  assert.doesNotMatch(message, /same-0123456/, 'the token itself is never shown');
});

test('one token for two operators is refused: every decision made with it would be recorded as the later one', () => {
  const digest = sha256Hex('shared-operator-0123');
  assert.match(refusal(() => book({ operators: { ana: { tokenSha256: digest }, ben: { tokenSha256: digest } } })), /operators\.ben\.tokenSha256: the same token as operator "ana": each operator needs its own/);
  const message = refusal(() => book({ operators: { ana: { tokenEnv: 'A' }, ben: { tokenEnv: 'B' } } }, { A: 'same-op-0123456', B: 'same-op-0123456' }));
  assert.equal(message, 'operators "ana" and "ben" have the same token: each operator needs its own');
  // Each with its own token: both decide, each as itself.
  const tokens = book({ operators: { ana: { tokenEnv: 'A' }, ben: { tokenEnv: 'B' } } }, { A: 'ana-token-0123456', B: 'ben-token-0123456' });
  assert.deepEqual([tokens.authenticateOperator('ana-token-0123456'), tokens.authenticateOperator('ben-token-0123456')], ['ana', 'ben']);
});

test("an operator with an agent's token is ignored with a warning: the agent stays an agent, never an operator", () => {
  const tokens = book({ agents: { alice: { profiles: ['low'], tokenEnv: 'A' } }, operators: { ops: { tokenEnv: 'O' } } }, { A: 'alice-token-0123', O: 'alice-token-0123' });
  assert.deepEqual(tokens.warnings, ['operator "ops" has the same token as an agent; it is ignored']);
  assert.equal(tokens.authenticate('alice-token-0123').name, 'alice');
  assert.throws(() => tokens.authenticateOperator('alice-token-0123'), (error: unknown) => isGatehouseError(error, 'GH_NOT_OPERATOR') && /is not an operator's/.test(error.message));
});

test('a token file that is a folder, lies under a file, or is empty stops the start with its config key', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'gatehouse-tokens-'));
  try {
    mkdirSync(path.join(dir, 'folder'));
    writeFileSync(path.join(dir, 'plain'), 'x');
    writeFileSync(path.join(dir, 'empty'), '\n');
    const agentWith = (file: string) => ({ agents: { a: { profiles: ['low'], tokenFile: path.join(dir, file) } } });
    assert.match(refusal(() => book(agentWith('folder'))), /^agents\.a\.tokenFile .*folder cannot be read or created: it is a folder$/);
    assert.match(refusal(() => book(agentWith('plain/token'))), /^agents\.a\.tokenFile .*plain\/token cannot be read or created: /);
    assert.match(refusal(() => book(agentWith('empty'))), /^agents\.a\.tokenFile .*empty is empty: no token could ever match it$/);
    // A missing file is made, once.
    const made = book(agentWith('new/token'));
    assert.deepEqual(made.warnings, []);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('processes that start together with a token file to create agree on one token, and none reads it empty', async () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'gatehouse-token-race-'));
  const tokens = pathToFileURL(path.join(import.meta.dirname, '../src/gateway/tokens.js')).href;
  try {
    for (let round = 0; round < 8; round += 1) {
      const file = path.join(dir, `round-${round}`, 'agent.token');
      const go = path.join(dir, `go-${round}`);
      // Each waits for the same moment, then reads or creates the file and prints what it got.
      const script = `
        const { existsSync } = await import('node:fs');
        const { readOrCreateTokenFile } = await import(${JSON.stringify(tokens)});
        while (!existsSync(${JSON.stringify(go)})) await new Promise((resolve) => setImmediate(resolve));
        process.stdout.write(JSON.stringify(readOrCreateTokenFile(${JSON.stringify(file)})));`;
      const children = Array.from({ length: 6 }, () => spawn(process.execPath, ['--input-type=module', '-e', script], { stdio: ['ignore', 'pipe', 'inherit'] }));
      const outputs = children.map(
        (child) =>
          new Promise<string>((resolve, reject) => {
            let out = '';
            child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
            child.once('exit', (code) => (code === 0 ? resolve(JSON.parse(out) as string) : reject(new Error(`a process exited with ${code}`))));
          }),
      );
      await new Promise((resolve) => setTimeout(resolve, 300)); // all started and waiting
      writeFileSync(go, '');
      const seen = await Promise.all(outputs);
      assert.equal(new Set(seen).size, 1, `round ${round}: one token for all (${seen.join(', ')})`);
      assert.match(seen[0]!, /^[\w-]{43}$/, 'a token, not an empty read');
      assert.deepEqual(readdirSync(path.dirname(file)), ['agent.token'], 'no draft left behind');
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

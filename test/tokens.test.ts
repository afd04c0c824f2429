import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
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

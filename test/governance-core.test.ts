import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { bindingHash, canonicalJson } from '../src/core/binding.js';
import { ConfirmTokens } from '../src/core/confirm-token.js';
import { gateOf } from '../src/core/gates.js';
import { isGatehouseError } from '../src/core/errors.js';
import { splitControlArguments } from '../src/governance/control-arguments.js';

const rules = [
  { pattern: 'send_*', gate: 'G3' as const, path: 'servers.mail.tools.send_*' },
  { pattern: 'send_draft', gate: 'G1' as const, path: 'servers.mail.tools.send_draft' },
  { pattern: 'read', gate: 'G0' as const, path: 'servers.mail.tools.read' },
];

test('a configured gate is final: an exact name beats a glob, and hints change nothing', () => {
  assert.deepEqual(gateOf({ name: 'send_email' }, rules), { gate: 'G3', source: 'config servers.mail.tools.send_*' });
  assert.equal(gateOf({ name: 'send_draft' }, rules).gate, 'G1');
  assert.equal(gateOf({ name: 'read', annotations: { destructiveHint: true, openWorldHint: true } }, rules).gate, 'G0');
});

test('without a rule a tool is G2, and annotations may raise a default but never lower it', () => {
  assert.deepEqual(gateOf({ name: 'x' }, []), { gate: 'G2', source: 'default G2' });
  assert.equal(gateOf({ name: 'x', annotations: { readOnlyHint: true } }, []).gate, 'G2', 'readOnlyHint does not lower G2');
  const g0 = { gate: 'G0' as const, path: 'servers.s.defaultGate' };
  assert.equal(gateOf({ name: 'x', annotations: { readOnlyHint: true } }, [], g0).gate, 'G0');
  assert.deepEqual(gateOf({ name: 'x', annotations: { destructiveHint: true } }, [], g0), {
    gate: 'G2',
    source: 'config servers.s.defaultGate, raised to G2 by annotation destructiveHint',
  });
  assert.equal(gateOf({ name: 'x', annotations: { openWorldHint: true } }, [], g0).gate, 'G3');
  assert.equal(gateOf({ name: 'x', annotations: { openWorldHint: true, readOnlyHint: true } }, [], g0).gate, 'G0', 'reading the open world is still reading');
});

test('the binding hash is RFC 8785 canonical: key order does not matter, any value does', () => {
  assert.equal(canonicalJson({ b: 1, a: [1, { d: 2, c: 'é' }] }), '{"a":[1,{"c":"é","d":2}],"b":1}');
  const base = { tool: 's/t', arguments: { a: 1, b: 2 }, agent: 'alice', profile: 'p', policyVersion: 'v1' };
  assert.equal(bindingHash(base), bindingHash({ ...base, arguments: { b: 2, a: 1 } }));
  for (const changed of [{ arguments: { a: 1, b: 3 } }, { agent: 'bob' }, { profile: 'q' }, { policyVersion: 'v2' }, { tool: 's/u' }]) {
    assert.notEqual(bindingHash(base), bindingHash({ ...base, ...changed }));
  }
});

test('confirm tokens: genuine ones verify; tampered, expired, foreign and other-plan ones are refused', () => {
  const tokens = new ConfirmTokens(randomBytes(32));
  const claims = { preflight: 'pf_1', planHash: 'h1', agent: 'alice', profile: 'p', expiresAt: Date.now() + 60_000 };
  const token = tokens.issue(claims);
  const expect = { planHash: 'h1', agent: 'alice', profile: 'p', now: Date.now() };
  assert.deepEqual(tokens.verify(token, expect), claims);
  const refused = (t: unknown, e = expect) => {
    try {
      tokens.verify(t, e);
    } catch (error) {
      assert.ok(isGatehouseError(error, 'GH_CONFIRM_INVALID'));
      return error.message;
    }
    assert.fail('accepted');
  };
  const [prefix, body, signature] = token.split('.');
  const forged = Buffer.from(JSON.stringify({ ...claims, planHash: 'h2' })).toString('base64url');
  assert.match(refused(`${prefix}.${forged}.${signature}`, { ...expect, planHash: 'h2' }), /signature/);
  assert.match(refused(`${prefix}.${body}.${signature!.slice(1)}x`), /signature/);
  assert.match(refused(new ConfirmTokens(randomBytes(32)).issue(claims)), /signature/, 'another store');
  assert.match(refused(token, { ...expect, now: claims.expiresAt + 1 }), /expired/);
  assert.match(refused(token, { ...expect, agent: 'bob' }), /issued to agent "alice"/);
  assert.match(refused(token, { ...expect, planHash: 'other' }), /differ/);
  assert.match(refused('nonsense'), /not a Gatehouse confirm token/);
  assert.match(refused(42), /must be the string/);
});

test('control arguments come out of the arguments; dry_run stays for a tool that declares it', () => {
  const plain = { name: 't', inputSchema: { type: 'object' as const, properties: { a: {} } } };
  const own = { name: 't', inputSchema: { type: 'object' as const, properties: { a: {}, dry_run: { type: 'boolean' } } } };
  assert.deepEqual(splitControlArguments({ a: 1, dry_run: true, approval_id: 'apr_1' }, plain), {
    arguments: { a: 1 },
    control: { dryRun: true, approvalId: 'apr_1' },
  });
  assert.deepEqual(splitControlArguments({ a: 1, dry_run: true }, own).arguments, { a: 1, dry_run: true });
  assert.deepEqual(splitControlArguments({ a: 1, dry_run: false }, own).arguments, { a: 1 });
  assert.throws(() => splitControlArguments({ confirm: 'yes' }, plain), /confirm must be exactly "SEND"/);
  assert.throws(() => splitControlArguments({ dry_run: 'true' }, plain), /dry_run must be a boolean/);
});

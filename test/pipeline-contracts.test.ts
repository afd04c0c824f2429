import { test } from 'node:test';
import assert from 'node:assert/strict';
import { judgeContract, type Contract } from '../src/pipeline/core/contracts.js';

/** Gate E's judgement of a Semantic table's columns against its contract and the contract last published. */
const contract: Contract = { version: 2, key: ['id'], columns: { id: 'integer', name: 'text', score: 'number' } };
const columns = [
  { name: 'id', type: 'integer' },
  { name: 'name', type: 'text' },
  { name: 'score', type: 'number' },
];
const verdicts = (findings: ReturnType<typeof judgeContract>) => Object.fromEntries(findings.map((finding) => [finding.rule, finding.ok]));

test('a table as contracted passes; one with a column the contract lacks, or of another type, fails its check', () => {
  assert.deepEqual(verdicts(judgeContract(columns, contract, null)), { contract_columns: true, contract_types: true, backward_compatible: true });
  const extra = judgeContract([...columns, { name: 'note', type: 'text' }], contract, null);
  assert.deepEqual(verdicts(extra), { contract_columns: false, contract_types: true, backward_compatible: true });
  assert.equal(extra[0]!.detail, 'not in the contract note');
  const retyped = judgeContract([columns[0]!, { name: 'name', type: 'integer' }, columns[2]!], contract, null);
  assert.deepEqual(verdicts(retyped), { contract_columns: true, contract_types: false, backward_compatible: true });
  assert.equal(retyped[1]!.detail, 'name is integer, contract says text');
});

test('a contract older than the one published is refused, even when it changes nothing', () => {
  const findings = judgeContract(columns, { ...contract, version: 1 }, contract);
  assert.deepEqual(findings[2], { rule: 'backward_compatible', ok: false, detail: 'contract version 1 is older than the published 2' });
});

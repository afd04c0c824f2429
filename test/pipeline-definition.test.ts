import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { parseYaml, toYaml } from '../src/config/yaml.js';
import { isGatehouseError } from '../src/core/errors.js';
import { loadDefinition, parseDefinition } from '../src/pipeline/definition/load.js';
import { DEFINITION_PATH } from './helpers/pipeline.js';

type Document = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

/** The bundled definition as a plain document. */
const bundled = (): Document => parseYaml(readFileSync(DEFINITION_PATH, 'utf8')) as Document;

/** The bundled definition, changed by `edit`, as YAML. */
function edited(edit: (document: Document) => void): string {
  const document = bundled();
  edit(document);
  return toYaml(document);
}

/** Each edit of the bundled definition is refused with GH_PIPELINE_DEFINITION_INVALID naming exactly its problem. */
function assertEachRefused(cases: Array<[(document: Document) => void, string]>): void {
  for (const [edit, problem] of cases) {
    assert.throws(() => parseDefinition(edited(edit), 'ca-k12.yaml'), (error: unknown) => {
      assert.ok(isGatehouseError(error, 'GH_PIPELINE_DEFINITION_INVALID'));
      assert.deepEqual(error.data.problems, [problem]);
      return true;
    }, problem);
  }
}

test('an unknown key anywhere in a pipeline definition fails with its path; the bundled definition loads', () => {
  assert.equal(loadDefinition(DEFINITION_PATH).definition.name, 'ca_k12');
  const cases: Array<[(document: Document) => void, string]> = [
    [(document) => (document.frobnicate = 1), 'frobnicate: unknown key'],
    [(document) => (document.gates.B[0].severity = 'high'), 'gates.B.0.severity: unknown key'],
    [(document) => (document.sources.enrollment.encodin = 'latin1'), 'sources.enrollment.encodin: unknown key'],
    [(document) => (document.sources.caaspp.partition.distrct = 'x'), 'sources.caaspp.partition.distrct: unknown key'],
    [(document) => (document.layers.final = {}), 'layers.final: unknown key'],
    [(document) => (document.contracts.schools.verison = 2), 'contracts.schools.verison: unknown key'],
  ];
  assertEachRefused(cases);
});

test('checks the schema cannot see are refused with their path: a check under another gate, a duplicate id, a table the layer lacks, a semantic table without a contract, a stage table without a source', () => {
  const cases: Array<[(document: Document) => void, string]> = [
    [(document) => (document.gates.B[0].id = 'C.strict_nulls'), 'gates.B.0.id: a check of gate B must be named B.…'],
    [(document) => (document.gates.B[1].id = document.gates.B[0].id), `gates.B.1.id: duplicate check id ${bundled().gates.B[0].id}`],
    [(document) => document.gates.B[0].tables.push('enrolment'), 'gates.B.0.tables: stage has no table enrolment (has directory, enrollment, caaspp_entities, caaspp)'],
    [(document) => delete document.contracts.schools, 'contracts: semantic table schools has no serving contract'],
    [(document) => (document.layers.stage.extra = 'SELECT 1'), 'layers.stage.extra: stage tables are named after their source; there is no source extra'],
  ];
  assertEachRefused(cases);
});

test('a loaded definition is frozen to its leaves: a run cannot change what the next run reads', () => {
  const { definition } = loadDefinition(DEFINITION_PATH);
  assert.ok(Object.isFrozen(definition));
  assert.ok(Object.isFrozen(definition.sources.caaspp!.columns));
  assert.ok(Object.isFrozen(definition.gates.B));
  assert.ok(Object.isFrozen(definition.reference.counties!.rows[0]));
  assert.throws(() => (definition.gates.B as unknown[]).push({}), TypeError);
});
